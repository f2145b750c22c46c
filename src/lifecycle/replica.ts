/**
 * @module lifecycle/replica
 * One replica of a component: spawns it in its own process group, gates it on readiness, applies
 * the restart policy when it exits on its own, and stops it through the stop budget. Every state
 * change goes through `#setState`, which records it (group-committed) and emits `replica:<state>`.
 */
import { join } from "node:path";
import type { EventBus } from "../events/events.js";
import { isMarkedGroup, spawnReplica, terminateGroup, waitReady } from "../process/index.js";
import type { DesiredState, ExitRecord, ReplicaRecord } from "../store/records.js";
import type { StateWriter } from "../store/state-writer.js";
import type { CommandSpec, CompiledComponent } from "../topology/types.js";
import { renderCommand, renderProbe, type ReplicaVars } from "./render.js";
import {
  initialRecord,
  replicaCwd,
  replicaEnv,
  replicaVars,
  servingPort,
  type ReplicaPlace,
} from "./replica-context.js";
import { GONE, ownExit, spawnedLeader, type Leader } from "./replica-leader.js";
import { stopReplica } from "./replica-stop.js";
import { adoptReplica, type Interrupted } from "./replica-adopt.js";
import type { ReplicaState } from "./replica-state.js";
import { runRecover } from "./recover.js";
import { assertReadyPortFree, replicaPort } from "./replica-ports.js";
import { RestartPolicy } from "./restart-policy.js";
import { StartWaiters } from "./start-waiters.js";
import type { HookEnv, RoutingDrain, StopResume } from "./stop-budget.js";

export interface ReplicaDeps {
  home: string;
  writer: StateWriter;
  bus: EventBus;
  /** The edge's drain of a replica, when a route reaches its component. */
  routing?: (component: string, index: number) => RoutingDrain | undefined;
  /**
   * With `patching`: the real directory of the run edition, read at each start.
   * @throws EditionLayoutError when the editions are not set up
   */
  runEdition?: () => string;
  /**
   * Runs before each launch, ahead of `recover`: in a cluster, a reseed this node owes the
   * component (cluster/reseed). Undefined when nothing is owed; a rejection fails the start.
   */
  beforeStart?: (
    component: string,
    signal: AbortSignal,
    env: () => Promise<HookEnv>,
  ) => Promise<void> | undefined;
}

export type { PhaseJournal } from "./replica-stop.js";
import type { PhaseJournal } from "./replica-stop.js";

export class Replica {
  readonly component: string;
  readonly index: number;
  readonly logFile: string;
  #spec: CompiledComponent;
  readonly #deps: ReplicaDeps;
  #record: ReplicaRecord;
  #leader: Leader | undefined;
  #spawnedAt = 0;
  /** True between the start of a stop budget and its end: exits are expected. */
  #stopping: Promise<ExitRecord | null> | undefined;
  /** Aborts a readiness wait or a pending backoff when a stop arrives. */
  #runAbort = new AbortController();
  #backoffTimer: NodeJS.Timeout | undefined;
  readonly #restarts: RestartPolicy;
  readonly #waiters: StartWaiters;
  /** Resolves once a launch has spawned (or given up); stop waits for it. */
  #launching: Promise<void> | undefined;
  /** Adoption found it mid-start with no process recorded: `revive` starts it. */
  #caughtStarting = false;
  /** What an interrupted stop had done before a daemon crash; the next stop continues from it. */
  #stopResume: StopResume | undefined;
  /**
   * With `patching`: the edition directory its process runs from. `start` sets it (undefined: the
   * run edition, read at launch); a restart by policy keeps it.
   */
  #edition: string | undefined;

  constructor(spec: CompiledComponent, index: number, deps: ReplicaDeps, record?: ReplicaRecord) {
    this.component = spec.name;
    this.index = index;
    this.#spec = spec;
    this.#deps = deps;
    this.logFile = join(deps.home, "logs", spec.name, `${index}.log`);
    this.#restarts = new RestartPolicy(spec.restart);
    this.#waiters = new StartWaiters(spec.name, index);
    this.#record = record ?? initialRecord(spec.name, index);
  }

  get state(): ReplicaState {
    return this.#record.state;
  }

  get record(): Readonly<ReplicaRecord> {
    return this.#record;
  }

  /** True when the replica exited 0 on its own (the `completed` dependency condition). */
  get completed(): boolean {
    return (
      this.#record.state === "stopped" &&
      this.#record.lastExit?.exitCode === 0 &&
      !this.#record.lastExit.forced
    );
  }

  /** The port it serves on, if known (lifecycle/replica-context `servingPort`). */
  get servingPort(): number | undefined {
    return servingPort(this.#place());
  }

  /** With `patching`: the edition directory its process runs (or last ran) from. */
  get edition(): string | undefined {
    return this.#edition;
  }

  /**
   * Start the replica (running `recover` first when it is invalidated) and resolve once it is
   * ready; reject with the reason when it fails, crashes for good, or a stop interrupts it. With
   * `patching`, it runs from `opts.edition` (a cutover's new replicas) or else the run edition.
   */
  start(opts: { edition?: string } = {}): Promise<void> {
    const state = this.#record.state;
    if (this.#stopping) return this.#stopping.then(() => this.start(opts));
    if (state === "ready") return Promise.resolve();
    const settled = this.#waiters.add();
    if (state === "starting" || state === "running" || state === "backoff") return settled;
    this.#restarts.reset();
    this.#runAbort = new AbortController();
    this.#edition = opts.edition;
    this.#launch();
    return settled;
  }

  /**
   * Run the stop budget, each step journaled under `journal` when given; the replica ends
   * `final` (`offline` for maintenance), or `killed` when it had to be SIGKILLed. Resolves with the
   * exit record (null when nothing was running).
   */
  stop(
    reason = "stop requested",
    journal?: PhaseJournal,
    final: "stopped" | "offline" = "stopped",
  ): Promise<ExitRecord | null> {
    if (this.#stopping) return this.#stopping;
    this.#runAbort.abort();
    clearTimeout(this.#backoffTimer);
    this.#stopping = this.#stop(reason, journal, final).finally(() => (this.#stopping = undefined));
    return this.#stopping;
  }

  /** Recovery after a daemon crash (lifecycle/replica-adopt). */
  adopt(desired: DesiredState | undefined, interrupted?: Interrupted): "adopted" | "lost" | "none" {
    return adoptReplica(
      {
        spec: this.#spec,
        record: () => this.#record,
        setState: (state, patch) => this.#setState(state, patch),
        caughtStarting: () => (this.#caughtStarting = true),
        take: (leader) => {
          this.#leader = leader;
          this.#spawnedAt = this.#record.updatedAt;
        },
        runsFrom: (edition) => (this.#edition = edition),
        onLeaderExit: (leader, code, signal) => this.#onLeaderExit(leader, code, signal),
        terminateLeftovers: (pgid) => this.#terminateLeftovers(pgid),
        resumeStop: (resume, journal, final) => {
          this.#stopResume = resume;
          void this.stop("stop resumed from the previous daemon", journal, final);
        },
        awaitReady: () => void this.#awaitReady(this.#runAbort.signal),
      },
      desired,
      interrupted,
    );
  }

  /**
   * Recovery, after adoption and the orphan sweep: a replica that should run but was waiting out a
   * backoff, or was caught mid-start, when the previous daemon ended is started again.
   */
  revive(desired: DesiredState | undefined): boolean {
    const { state } = this.#record;
    if (desired !== "running" || this.#stopping || this.#backoffTimer !== undefined) return false;
    if (state !== "backoff" && !(state === "crashed" && this.#caughtStarting)) return false;
    this.#caughtStarting = false;
    if (state === "backoff") this.#record.restarts += 1;
    this.#runAbort = new AbortController();
    this.#launch();
    return true;
  }

  async #stop(
    reason: string,
    journal: PhaseJournal | undefined,
    final: "stopped" | "offline",
  ): Promise<ExitRecord | null> {
    await this.#launching;
    const resume = this.#stopResume;
    this.#stopResume = undefined;
    return stopReplica(
      {
        component: this.component,
        index: this.index,
        spec: this.#spec,
        record: () => this.#record,
        leader: this.#leader,
        spawnedAt: () => this.#spawnedAt,
        routing: this.#deps.routing?.(this.component, this.index),
        drainCommand: () => this.#rendered(this.#spec.drain.command),
        hookEnv: () => this.#hookEnv(),
        setState: (state, patch) => this.#setState(state, patch),
        settle: () => this.#settle(),
      },
      { reason, journal, final, resume },
    );
  }

  /** Spawn (after a reseed owed and `recover` when invalidated), then wait for readiness. Never throws. */
  #launch(): void {
    let spawned!: () => void;
    this.#launching = new Promise<void>((resolve) => (spawned = resolve));
    const abort = this.#runAbort.signal;
    void (async () => {
      this.#setState("starting", { reason: null });
      try {
        await this.#deps.beforeStart?.(this.component, abort, () => this.#reseedEnv());
        const { recover } = this.#spec;
        if (this.#record.invalidated && recover)
          await runRecover(this.#rendered(recover)!, this.#spec.ready?.withinMs ?? 60_000, this.#hookEnv());
        this.#record.invalidated = false;
        if (this.#spec.editionCwd !== undefined) this.#edition ??= this.#deps.runEdition?.();
        const vars = await this.#vars();
        await assertReadyPortFree(this.#spec.ready, vars);
        await this.#spawn(vars);
      } catch (err) {
        spawned();
        this.#fail(err instanceof Error ? err.message : String(err));
        return;
      }
      spawned();
      if (abort.aborted) return;
      await this.#awaitReady(abort);
    })();
  }

  /** A hook command with this replica's `${port}`, `${replica}` and `${home}` filled in. */
  #rendered(command: CommandSpec | undefined): CommandSpec | undefined {
    return command === undefined ? undefined : renderCommand(command, this.#baseVars());
  }

  /** Where and how it runs now (lifecycle/replica-context). */
  #place(): ReplicaPlace {
    const { index } = this;
    return {
      spec: this.#spec,
      index,
      home: this.#deps.home,
      port: this.#record.port,
      edition: this.#edition,
    };
  }

  #baseVars(): ReplicaVars {
    return replicaVars(this.#place());
  }

  #cwd(): string {
    return replicaCwd(this.#place());
  }

  async #vars(): Promise<ReplicaVars> {
    if (!this.#spec.usesPort) return this.#baseVars();
    this.#record.port = await replicaPort(this.#record.port);
    return this.#baseVars();
  }

  async #spawn(vars: ReplicaVars): Promise<void> {
    const spawned = await spawnReplica({
      command: renderCommand(this.#spec.command, vars),
      cwd: this.#cwd(),
      env: this.#env(vars),
      logFile: this.logFile,
    });
    this.#logOffsetAtSpawn = spawned.logOffset;
    this.#spawnedAt = Date.now();
    this.#leader = spawnedLeader(spawned.pid, spawned.child, (l, code, signal) =>
      this.#onLeaderExit(l, code, signal),
    );
    this.#setState("running", {
      pid: spawned.pid,
      pgid: spawned.pgid,
      startTime: spawned.startTime,
      port: vars.port ?? null,
    });
  }

  async #awaitReady(abort: AbortSignal): Promise<void> {
    const ready = this.#spec.ready;
    if (!ready) {
      if (this.#record.state === "running") this.#setReady();
      return;
    }
    const leader = this.#leader;
    if (!leader) return;
    const vars = this.#baseVars();
    const result = await waitReady(renderProbe(ready, vars), {
      logFile: this.logFile,
      logOffset: this.#logOffsetAtSpawn,
      port: vars.port,
      cwd: this.#cwd(),
      env: this.#env(vars),
      signal: abort,
      isAlive: () => this.#leader === leader && !leader.exited,
    });
    if (abort.aborted || this.#leader !== leader || this.#record.state !== "running") return;
    if (result.ok) {
      this.#setReady();
      return;
    }
    // Fail closed: a replica that is not ready in time is stopped and marked failed.
    const waiters = this.#waiters.take();
    await this.stop(`stopped: ${result.reason}`);
    this.#waiters.restore(waiters);
    this.#fail(result.reason);
  }

  #logOffsetAtSpawn = 0;

  #setReady(): void {
    this.#restarts.markReady();
    this.#setState("ready", { reason: null });
    this.#settle();
  }

  #onLeaderExit(leader: Leader, exitCode: number | null, signal: string | null): void {
    if (this.#leader !== leader || this.#stopping) return;
    const beforeReady = this.#record.state === "running" && Boolean(this.#spec.ready);
    const lastExit = ownExit(exitCode, signal, this.#spawnedAt, beforeReady);
    const pgid = this.#record.pgid;
    // Whatever the leader left in its group goes with it (systemd's control-group kill mode).
    const cleanup = pgid === null ? Promise.resolve() : this.#terminateLeftovers(pgid);
    const decision = this.#restarts.decide(lastExit.reason, exitCode === 0 && signal === null);
    if (decision.action === "rest" || this.#runAbort.signal.aborted) {
      const clean = decision.action === "rest" && decision.state === "stopped";
      this.#setState(clean ? "stopped" : "crashed", {
        ...GONE,
        lastExit,
        reason: clean ? null : lastExit.reason,
      });
      this.#settle(clean ? undefined : lastExit.reason);
    } else if (decision.action === "give-up") {
      this.#fail(decision.reason, { lastExit });
    } else {
      this.#setState("backoff", { ...GONE, lastExit, reason: decision.reason });
      this.#backoffTimer = setTimeout(() => {
        void cleanup.then(() => {
          if (this.#record.state !== "backoff" || this.#runAbort.signal.aborted) return;
          this.#record.restarts += 1;
          this.#launch();
        });
      }, decision.delayMs);
    }
  }

  /**
   * What the leader left in its group goes with it (systemd's control-group kill mode) — if the
   * group is still ours: after a daemon crash the recorded pgid may belong to another program now.
   */
  async #terminateLeftovers(pgid: number): Promise<void> {
    if (!isMarkedGroup(pgid, this.#deps.home)) return;
    await terminateGroup(pgid, this.#spec.stop);
  }

  #fail(reason: string, patch: Partial<ReplicaRecord> = {}): void {
    this.#setState("failed", { ...GONE, ...patch, reason });
    this.#settle(reason);
  }

  #env(vars: ReplicaVars): NodeJS.ProcessEnv {
    return replicaEnv(this.#place(), vars);
  }

  /** A reseed's environment: this replica's, so its edition and port are settled first. */
  async #reseedEnv(): Promise<HookEnv> {
    if (this.#spec.editionCwd !== undefined) this.#edition ??= this.#deps.runEdition?.();
    await this.#vars();
    return this.#hookEnv();
  }

  #hookEnv(): HookEnv {
    return { cwd: this.#cwd(), env: this.#env(this.#baseVars()), logFile: this.logFile };
  }

  /** Wake start() callers: resolve when ready, reject with the reason otherwise. */
  #settle(failure?: string): void {
    const { state, reason } = this.#record;
    this.#waiters.settle(state === "ready" ? undefined : (failure ?? reason ?? `is ${state}`));
  }

  /** The one setter of the replica state: records the transition and announces it. */
  #setState(state: ReplicaState, patch: Partial<ReplicaRecord> = {}): void {
    const previous = this.#record.state;
    this.#record = { ...this.#record, ...patch, state, updatedAt: Date.now() };
    void this.#deps.writer.putReplica(this.#record);
    this.#deps.bus.emit(`replica:${state}`, {
      component: this.component,
      index: this.index,
      state,
      previous,
      pid: this.#record.pid,
      reason: this.#record.reason,
      at: this.#record.updatedAt,
    });
  }
}
