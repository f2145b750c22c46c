/**
 * @module lifecycle/replica
 * One replica of a component: spawns it in its own process group, gates it on readiness, applies
 * the restart policy when it exits on its own, and stops it through the stop budget. Every state
 * change goes through `#setState`, which records it (group-committed) and emits `replica:<state>`.
 */
import { join, sep } from "node:path";
import type { EventBus } from "../events/events.js";
import {
  formatMs,
  isAlive,
  isMarkedGroup,
  markerEnv,
  readCwd,
  spawnReplica,
  terminateGroup,
  waitReady,
  watchExit,
} from "../process/index.js";
import type { DesiredState, ExitRecord, ReplicaRecord } from "../store/records.js";
import type { StateWriter } from "../store/state-writer.js";
import type { CommandSpec, CompiledComponent } from "../topology/types.js";
import { renderCommand, renderEnv, renderProbe, type ReplicaVars } from "./render.js";
import { LIVE_STATES, type ReplicaState } from "./replica-state.js";
import { runRecover } from "./recover.js";
import { assertReadyPortFree, replicaPort } from "./replica-ports.js";
import { RestartPolicy } from "./restart-policy.js";
import { StartWaiters } from "./start-waiters.js";
import type { OperationLog } from "../recovery/journal.js";
import {
  runStopBudget,
  type HookEnv,
  type RoutingDrain,
  type StopBudgetContext,
  type StopResume,
} from "./stop-budget.js";

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
}

/** The journaled operation a start or stop belongs to, and which phase of its plan. */
export interface PhaseJournal {
  log: OperationLog;
  phase: number;
}

interface LeaderExit {
  exitCode: number | null;
  signal: string | null;
}

/** The replica's main process: spawned by this daemon (an `exit` event) or re-adopted (polled). */
interface Leader {
  pid: number;
  exited: boolean;
  exit: Promise<LeaderExit>;
}

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
    this.#record = record ?? {
      component: spec.name,
      index,
      state: "stopped",
      pid: null,
      pgid: null,
      startTime: null,
      port: null,
      restarts: 0,
      lastExit: null,
      invalidated: false,
      reason: null,
      updatedAt: Date.now(),
    };
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

  /**
   * The port the replica serves on: its `${port}`, else the one its `tcp` or `http` readiness probe
   * names (a component listening on a fixed port). Undefined when neither says.
   */
  get servingPort(): number | undefined {
    if (this.#record.port !== null) return this.#record.port;
    const ready = this.#spec.ready;
    if (!ready || (ready.kind !== "tcp" && ready.kind !== "http")) return undefined;
    try {
      const probe = renderProbe(ready, this.#baseVars());
      const port = probe.kind === "tcp" ? Number(probe.port) : Number(new URL(probe.url).port || 80);
      return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
    } catch {
      return undefined;
    }
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

  /**
   * Recovery after a daemon crash: take over the process the record names when it still runs
   * (same pid and start time) — no restart, its log continues, its exit is watched by polling.
   * A stop that was under way goes on with what its journal says it had done (`resume`), its steps
   * journaled under `journal`; a readiness wait resumes. A process that is gone counts as an exit
   * with unknown status, and the restart policy applies when `desired` is `running`.
   */
  adopt(
    desired: DesiredState | undefined,
    interrupted?: { resume?: StopResume; journal?: PhaseJournal },
  ): "adopted" | "lost" | "none" {
    const { state, pid, startTime } = this.#record;
    if (!LIVE_STATES.has(state)) return "none";
    if (pid === null || startTime === null) {
      // Caught between "starting" and a recorded spawn: nothing to take over. A process spawned in
      // that instant carries the orphan marker and is swept; `revive` starts the replica again.
      this.#setState("crashed", { ...this.#gone(), reason: "the daemon ended while it was starting" });
      this.#caughtStarting = true;
      return "lost";
    }
    const leader: Leader = { pid, exited: false, exit: Promise.resolve({ exitCode: null, signal: null }) };
    this.#leader = leader;
    this.#spawnedAt = this.#record.updatedAt;
    if (!isAlive(pid, startTime)) {
      leader.exited = true;
      if (desired === "running" && state !== "draining" && state !== "stopping")
        this.#onLeaderExit(leader, null, null);
      else {
        const pgid = this.#record.pgid;
        // The leader is gone; whatever it left in its group goes too.
        if (pgid !== null) void this.#terminateLeftovers(pgid);
        this.#setState("stopped", { ...this.#gone(), reason: `pid ${pid} ended while no daemon watched it` });
      }
      return "lost";
    }
    this.#edition = this.#editionOf(pid);
    leader.exit = new Promise<LeaderExit>((resolve) => {
      watchExit(pid, startTime, () => {
        leader.exited = true;
        resolve({ exitCode: null, signal: null });
        this.#onLeaderExit(leader, null, null);
      });
    });
    if (state === "draining" || state === "stopping") {
      this.#stopResume = interrupted?.resume ?? { drainDone: state === "stopping", signalSentAt: null };
      // A maintenance stop ends offline, as the interrupted operation would have left it.
      const final = interrupted?.journal?.log.record.kind === "maintenance-on" ? "offline" : "stopped";
      void this.stop("stop resumed from the previous daemon", interrupted?.journal, final);
    } else if (state === "ready")
      this.#setState("ready", { reason: `re-adopted (pid ${pid}) from the previous daemon` });
    else {
      this.#setState("running", { reason: `re-adopted (pid ${pid}) before it was ready; readiness resumes` });
      void this.#awaitReady(this.#runAbort.signal);
    }
    return "adopted";
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
    const { state, pgid } = this.#record;
    const leader = this.#leader;
    if (!LIVE_STATES.has(state) || pgid === null || !leader) {
      if (
        state === "backoff" ||
        state === "crashed" ||
        state === "failed" ||
        // The last operation asked says which: maintenance (offline) or a stop (stopped).
        (final === "offline" && state === "stopped") ||
        (final === "stopped" && state === "offline")
      )
        this.#setState(final, { reason: `${reason} (was ${state})` });
      this.#settle();
      return null;
    }
    const ctx: StopBudgetContext = {
      pgid,
      signal: this.#spec.stop.signal,
      graceMs: this.#spec.stop.graceMs,
      drain: { ...this.#spec.drain, command: this.#rendered(this.#spec.drain.command) },
      hookEnv: () => this.#hookEnv(),
      leaderExit: leader.exit,
      signalSentAt: resume?.signalSentAt ?? null,
      drainDone: resume?.drainDone ?? false,
      routing: this.#deps.routing?.(this.component, this.index),
      outcome: { forced: false, notes: [], steps: [] },
    };
    const steps = new Map<string, { end(status: "done", detail: string | null): void }>();
    const outcome = await runStopBudget(ctx, {
      before: async (step) => {
        if (this.#record.state !== step.state) this.#setState(step.state, { reason });
        if (!journal) return;
        const target = {
          phase: journal.phase,
          name: step.name,
          component: this.component,
          index: this.index,
        };
        steps.set(step.name, await journal.log.begin(target, `pid ${leader.pid}`));
      },
      after: (step, detail) => steps.get(step.name)?.end("done", detail),
    });
    const exit = await leader.exit;
    const lastExit: ExitRecord = {
      exitCode: exit.exitCode,
      signal: exit.signal,
      reason: [reason, ...outcome.notes].join("; "),
      forced: outcome.forced,
      durationMs: Date.now() - this.#spawnedAt,
      at: Date.now(),
    };
    this.#setState(outcome.forced ? "killed" : final, {
      ...this.#gone(),
      lastExit,
      invalidated: outcome.forced || this.#record.invalidated,
      reason: outcome.forced
        ? `invalidated: the group did not exit within ${formatMs(ctx.graceMs)} and was killed; \`recover\` runs before the next start`
        : outcome.notes.length > 0
          ? outcome.notes.join("; ")
          : null,
    });
    this.#settle();
    return lastExit;
  }

  /** Spawn (after `recover` when invalidated), then wait for readiness. Never throws. */
  #launch(): void {
    let spawned!: () => void;
    this.#launching = new Promise<void>((resolve) => (spawned = resolve));
    const abort = this.#runAbort.signal;
    void (async () => {
      this.#setState("starting", { reason: null });
      try {
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

  #baseVars(): ReplicaVars {
    return {
      replica: this.index,
      home: this.#deps.home,
      port: this.#record.port ?? undefined,
      edition: this.#edition,
    };
  }

  /** The working directory: inside its edition with `patching`, else the compiled `cwd`. */
  #cwd(): string {
    const { editionCwd, cwd } = this.#spec;
    return editionCwd !== undefined && this.#edition !== undefined ? join(this.#edition, editionCwd) : cwd;
  }

  /** The edition a re-adopted process runs from, read off its working directory. */
  #editionOf(pid: number): string | undefined {
    const { editionCwd } = this.#spec;
    const cwd = editionCwd === undefined ? undefined : readCwd(pid);
    if (cwd === undefined || editionCwd === undefined) return undefined;
    if (editionCwd === ".") return cwd;
    return cwd.endsWith(sep + editionCwd) ? cwd.slice(0, -(editionCwd.length + 1)) : undefined;
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
    const child = spawned.child;
    const leader: Leader = {
      pid: spawned.pid,
      exited: false,
      exit: Promise.resolve({ exitCode: null, signal: null }),
    };
    leader.exit = new Promise<LeaderExit>((resolve) => {
      child.once("exit", (exitCode, signal) => {
        leader.exited = true;
        resolve({ exitCode, signal });
        this.#onLeaderExit(leader, exitCode, signal);
      });
    });
    this.#leader = leader;
    child.on("error", () => {}); // spawn errors were resolved before spawning; exit follows any other
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
    const lastExit: ExitRecord = {
      exitCode,
      signal,
      reason: signal
        ? `killed by ${signal}`
        : exitCode !== null
          ? `exited with code ${exitCode}`
          : "exited (status unknown: it was not a child of this daemon)",
      forced: false,
      durationMs: Date.now() - this.#spawnedAt,
      at: Date.now(),
    };
    if (this.#record.state === "running" && this.#spec.ready)
      lastExit.reason = `exited before it was ready (${lastExit.reason})`;
    const pgid = this.#record.pgid;
    // Whatever the leader left in its group goes with it (systemd's control-group kill mode).
    const cleanup = pgid === null ? Promise.resolve() : this.#terminateLeftovers(pgid);
    const decision = this.#restarts.decide(lastExit.reason, exitCode === 0 && signal === null);
    if (decision.action === "rest" || this.#runAbort.signal.aborted) {
      const clean = decision.action === "rest" && decision.state === "stopped";
      this.#setState(clean ? "stopped" : "crashed", {
        ...this.#gone(),
        lastExit,
        reason: clean ? null : lastExit.reason,
      });
      this.#settle(clean ? undefined : lastExit.reason);
    } else if (decision.action === "give-up") {
      this.#fail(decision.reason, { lastExit });
    } else {
      this.#setState("backoff", { ...this.#gone(), lastExit, reason: decision.reason });
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
    this.#setState("failed", { ...this.#gone(), ...patch, reason });
    this.#settle(reason);
  }

  #gone(): Partial<ReplicaRecord> {
    return { pid: null, pgid: null, startTime: null };
  }

  /** The daemon's environment, the component's `env`, and the marker that finds orphans (process/orphans). */
  #env(vars: ReplicaVars): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...renderEnv(this.#spec.env, vars),
      ...markerEnv(this.#deps.home, this.component, this.index),
    };
  }

  #hookEnv(): HookEnv {
    const vars = this.#baseVars();
    return {
      cwd: this.#cwd(),
      env: this.#env(vars),
      logFile: this.logFile,
    };
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
