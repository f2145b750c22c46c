/**
 * @module daemon/daemon
 * `steward daemon`: one per home. Boots (instance count, leftover sweep), serves the control API on
 * `<home>/steward.sock` (mode 0600), supervises, rotates logs, and shuts down in order on `down`
 * or the first SIGTERM/SIGINT.
 */
import { createAdaptorServer } from "@hono/node-server";
import { chmodSync, mkdirSync, unlinkSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { createApp, type DaemonControl, type OperationName } from "../api/app.js";
import { IllegalStateError, RecoveringError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import type { Supervisor, OperationResult } from "../lifecycle/supervisor.js";
import { isAlive, rotateIfNeeded, signalGroup } from "../process/index.js";
import { OperationLog } from "../recovery/journal.js";
import {
  OperationQueue,
  describeTicket,
  type QueueNotice,
  type QueueTicket,
} from "../lifecycle/operation-queue.js";
import type { JobRunner } from "../lifecycle/job-runner.js";
import { Maintenance, type MaintenanceOptions } from "../lifecycle/maintenance.js";
import type { Claim } from "../process/index.js";
import { openStore } from "../store/open-store.js";
import type {
  DaemonRecord,
  DesiredState,
  OperationKind,
  OperationPhase,
  ReplicaRecord,
} from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import type { StateWriter } from "../store/state-writer.js";
import { topologyDigest } from "../topology/digest.js";
import { compileKey, readCompiled } from "../topology/compiled-cache.js";
import { loadTopologyIsolated } from "../topology/load-isolated.js";
import { locateHome } from "../topology/locate-home.js";
import { sweepOrphans } from "../recovery/sweep.js";
import { acquireLock, type DaemonLock } from "./lock.js";
import { spawnDaemon, takeHandover } from "./spawn-daemon.js";
import { log, rotateDaemonLog } from "./log.js";
import { statusOf } from "./status.js";
import { verify } from "./verify.js";
import { DaemonPatching, downRefusal } from "./patch-wiring.js";
import type { DaemonEdge } from "./edge-wiring.js";
import { assemble, type RecoverySummary } from "./assemble.js";
import { joinCluster, withCluster, type DaemonCluster } from "./cluster-wiring.js";
import { startClusterParts } from "./cluster-start.js";
import { TokenBook } from "../auth/token-book.js";
import { controlUrl, listenControl, readTls, type TlsFiles } from "./control-listener.js";

/** How often replica logs are checked for rotation. */
const ROTATE_EVERY_MS = 10_000;
/** A repeated stop signal within this window is ignored; after it, the next one forces. */
const REPEAT_SIGNAL_WINDOW_MS = 5_000;
/** An operation resumed this often and interrupted again is given up: resuming it may be what crashes. */
const MAX_RESUMES = 3;

export type DaemonState = "recovering" | "active" | "stopping";

/** What a recovering (or taking-over) daemon found and did. */
export type { RecoverySummary } from "./assemble.js";

/** How long a daemon started by a handover waits for its predecessor to exit. */
const HANDOVER_WAIT_MS = 30_000;

async function waitExit(pid: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

export function socketPath(home: string): string {
  return join(home, "steward.sock");
}

export class Daemon {
  readonly supervisor: Supervisor;
  /** Set by `boot` before the API listens. */
  jobs!: JobRunner;
  maintenance!: Maintenance;
  /** Operations on the same component run one at a time, in the order asked (lifecycle/operation-queue). */
  readonly queue = new OperationQueue((notice) => this.#onQueueNotice(notice));
  /** The journal of every operation asked and not finished, by id: a superseded one is finished at once. */
  readonly #asked = new Map<string, OperationLog>();
  /** The patch cycle, when the topology has `patching`. */
  patching: DaemonPatching | undefined;
  /** The edge, when the topology has routes. */
  #edge: DaemonEdge | undefined;
  /** Membership of the cluster, when the topology has `cluster:`. */
  #cluster: DaemonCluster | undefined;
  readonly bus: EventBus;
  readonly #store: StateStore;
  readonly #writer: StateWriter;
  readonly #lock: DaemonLock;
  #record: DaemonRecord;
  readonly #digest: string;
  #server: Server | undefined;
  /** The remote API listener of `control:` (daemon/control-listener). */
  #remote: Server | undefined;
  #tls: TlsFiles | undefined;
  /** API tokens of the remote listener. */
  readonly tokens: TokenBook;
  #state: DaemonState;
  /** What recovery found and did, for `status`; undefined after a clean boot. */
  #recovery: RecoverySummary | undefined;
  /** Operations a crashed daemon left half-done, resumed once the API listens. */
  #interrupted: OperationLog[];
  #rotateTimer: NodeJS.Timeout | undefined;
  #down: Promise<OperationResult> | undefined;
  readonly #exited: Promise<void>;
  #exit!: () => void;

  private constructor(
    supervisor: Supervisor,
    bus: EventBus,
    store: StateStore,
    writer: StateWriter,
    lock: DaemonLock,
    record: DaemonRecord,
    interrupted: OperationLog[],
  ) {
    this.supervisor = supervisor;
    this.bus = bus;
    this.#store = store;
    this.#writer = writer;
    this.#lock = lock;
    this.tokens = new TokenBook(store);
    this.#record = record;
    this.#interrupted = interrupted;
    this.#state = record.bootKind === "clean" ? "active" : "recovering";
    this.#digest = topologyDigest(supervisor.topology.file);
    this.#exited = new Promise((resolve) => (this.#exit = resolve));
  }

  /** Boot a daemon for the topology file; throws `DaemonRunningError` when one already runs on its home. */
  static async boot(file: string): Promise<Daemon> {
    const home = locateHome(file)?.home;
    const topology = (home && readCompiled(home, compileKey(file))) || (await loadTopologyIsolated(file));
    const tls = topology.control && readTls(topology.control); // a bad TLS file: refuse before anything starts
    mkdirSync(join(topology.home, "logs"), { recursive: true, mode: 0o700 });
    const handover = takeHandover();
    // Started by a handing-over daemon: it holds the lock until it has finished its in-flight requests.
    if (handover.from !== undefined) await waitExit(handover.from, HANDOVER_WAIT_MS);
    const lock = await acquireLock(topology.home, handover.from !== undefined ? { waitMs: 2_000 } : {});
    let cluster: DaemonCluster | undefined;
    try {
      cluster = await joinCluster(topology, log); // before the store: a refused name touches nothing
      const store = await openStore(topology.store, cluster?.storeOptions);
      const parts = await assemble(topology, store);
      const { record, takingOver, desired, records, bus, writer, edge, supervisor, jobs, interrupted } =
        parts;
      const daemon = new Daemon(supervisor, bus, store, writer, lock, record, interrupted);
      daemon.#tls = tls;
      const adminFile = await daemon.tokens.ensureAdmin(topology.home);
      if (adminFile) log("info", `first start: created the admin token of the remote API in ${adminFile}`);
      daemon.jobs = jobs;
      daemon.#edge = edge;
      daemon.#cluster = cluster;
      if (cluster) {
        cluster.membership.instance = record.instance;
        // Before any start: a `nodes: any` component runs nothing here until its assignment is read.
        const { DaemonPlacement } = await import("./placement-wiring.js");
        // After a crash, what the operator last asked: replicas placed here later start only if `running`.
        for (const [name, want] of desired) supervisor.desired.set(name, want);
        // After adoption, before any start: a long absence owes a reseed from a peer first.
        const { attachReseeds } = await import("./reseed-wiring.js");
        cluster.reseeds = await attachReseeds(topology, cluster, supervisor, log);
        cluster.placement = new DaemonPlacement(topology, cluster, supervisor, log);
      }
      if (cluster && edge) edge.remoteLagMs = () => cluster!.remoteRoutingLagMs();
      if (cluster && edge)
        cluster.followRemoteReplicas(
          edge.routedComponents,
          (r) => edge.setRemote(r),
          (m) => log("warn", m),
        );
      daemon.maintenance = new Maintenance({
        supervisor,
        jobs,
        store,
        writer,
        bus,
        execute: (log) => daemon.#execute(log),
      });
      daemon.#recovery = parts.recovery;
      daemon.patching = await DaemonPatching.attach(topology, {
        supervisor,
        jobs,
        edge,
        writer,
        store,
        bus,
        instance: record.instance,
        queue: daemon.queue,
        downAsked: () => daemon.#down !== undefined,
      });
      try {
        await edge?.listen(handover.listeners);
      } catch (err) {
        await edge?.close();
        throw err;
      }
      await daemon.#listen();
      // This node's cluster steps run through `run`, the path of `steward start|stop|restart`.
      if (cluster)
        startClusterParts(cluster, {
          topology,
          supervisor,
          surge: edge?.surge ?? (() => false),
          patching: daemon.patching,
          run: (kind, names) => daemon.run(kind, names),
          ready: () => daemon.state === "active",
          log,
        });
      daemon.#rotateTimer = setInterval(() => daemon.#rotateLogs(), ROTATE_EVERY_MS).unref();
      log(
        "info",
        `daemon ${record.pid} ${daemon.#state} on ${socketPath(topology.home)} (instance ${record.instance}, ${record.bootKind} boot)`,
      );
      if (takingOver) {
        const claimed = (r: ReplicaRecord): boolean =>
          topology.components.some((c) => c.name === r.component && r.index < 2 * c.replicas);
        void daemon.#recover(
          desired,
          records.filter((r) => !claimed(r)),
        );
      }
      return daemon;
    } catch (err) {
      await cluster?.close();
      lock.release();
      throw err;
    }
  }

  /** Resolves when the daemon has shut down. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  get state(): DaemonState {
    return this.#state;
  }

  control(): DaemonControl {
    return {
      bus: this.bus,
      admit: (operation) => this.#admit(operation),
      tokens: this.tokens,
      jobs: this.jobs,
      store: this.#store,
      patching: this.patching,
      patchNodes: async () => this.#cluster?.patch?.nodes(),
      handover: () => this.handover(),
      cluster: this.#cluster,
      status: () =>
        withCluster(
          statusOf(
            this.supervisor,
            this.#digest,
            this.#record,
            this.#state,
            this.#store.location,
            this.#recovery,
            this.#edge?.snapshot(),
            this.patching?.summary(),
          ),
          this.#cluster,
        ),
      topologyDigest: this.#digest,
      topologyFile: this.supervisor.topology.file,
      resolve: (names) => this.supervisor.resolve(names),
      run: (operation, names, opts) => this.run(operation, names, opts),
      verify: () => verify(this.supervisor, this.#store),
    };
  }

  /** Throws when the daemon cannot take a mutating call now (recovering, or shutting down). */
  #admit(operation: OperationName | "handover" | "run" | "patch"): void {
    if (this.#state === "recovering")
      throw new RecoveringError(
        this.#record.instance,
        this.#interrupted.map((op) => op.record.kind),
      );
    if (this.#state === "stopping" && operation !== "down")
      throw new IllegalStateError(
        "the daemon is shutting down (`down` in progress); start it again with `steward up`",
      );
  }

  /**
   * Run an operation, journaled: its plan first, then each step before and after it runs. It is
   * journaled and queued at once, in the order asked (nothing awaits before that): it waits for
   * the operations asked before it on the same components, or supersedes a queued one it makes
   * moot (lifecycle/operation-queue). A queued operation is in the journal, so a daemon crash
   * loses nothing: the next daemon runs what was queued, in the order asked.
   */
  async run(
    operation: OperationName,
    names: string[],
    opts: MaintenanceOptions = {},
  ): Promise<OperationResult> {
    if (operation === "down") return this.down();
    const plan = operation === "maintenance-off" ? [] : this.supervisor.plan(operation, names);
    const { log, written } = OperationLog.open(this.#writer, this.#record.instance, operation, names, plan);
    this.#asked.set(log.id, log);
    const ticket: QueueTicket = {
      id: log.id,
      kind: operation,
      targets: names,
      components: this.#touched(operation, plan),
    };
    try {
      const outcome = await this.queue.submit(ticket, async () => {
        await written;
        return this.#perform(log, opts);
      });
      if (!outcome.supersededBy) return outcome.value;
      const by = outcome.supersededBy;
      return { ...outcome.value, superseded: { by: by.id, operation: describeTicket(by) } };
    } finally {
      this.#asked.delete(log.id);
    }
  }

  /** What an operation waits on: its plan's components; `up` and maintenance all of theirs. */
  #touched(kind: OperationKind, plan: OperationPhase[]): Set<string> {
    const all = kind === "up" || kind === "maintenance-off";
    const names = all
      ? this.supervisor.components.map((c) => c.spec.name)
      : plan.flatMap((p) => p.components);
    // One maintenance record: `on` and `off` also wait for each other, whatever their components.
    return new Set([...names, ...(kind.startsWith("maintenance") ? ["\0maintenance"] : [])]);
  }

  /** An operation's turn has come: do it under its journal; a refusal is journaled as its end. */
  async #perform(log: OperationLog, opts: MaintenanceOptions): Promise<OperationResult> {
    try {
      switch (log.record.kind) {
        case "maintenance-on":
          return await this.maintenance.on(log, opts);
        case "maintenance-off":
          return await this.maintenance.off(log);
        case "up": {
          // `up` leaves what maintenance took offline offline, until `maintenance off`.
          const offline = (await this.#store.readMaintenance())?.components ?? [];
          const names = log.record.targets;
          const wanted = this.supervisor.resolve(names).filter((c) => !offline.includes(c));
          if (offline.length > 0)
            this.bus.emit("operation:step", {
              operation: "up",
              step: "progress",
              message: `in maintenance: ${offline.join(", ")} stay offline until \`steward maintenance off\``,
              at: Date.now(),
            });
          await log.replan(wanted.length > 0 ? this.supervisor.plan("up", wanted) : []);
          return await this.#execute(log);
        }
        case "start":
        case "restart":
          // Brought back during maintenance: no longer held offline by it (lifecycle/maintenance).
          await this.maintenance.release(log.record.plan);
          return await this.#execute(log);
        default:
          return await this.#execute(log);
      }
    } catch (err) {
      await log.finish(false, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /** Say what the queue decided — in every open operation stream and the daemon log — and journal it. */
  #onQueueNotice(notice: QueueNotice): void {
    const { ticket } = notice;
    const what = `\`${describeTicket(ticket)}\` (${ticket.id})`;
    let message: string;
    if (notice.type === "waiting") {
      const running = new Set(this.queue.pending.filter((p) => p.running).map((p) => p.ticket.id));
      const behind = notice.behind
        .map((b) => `\`${describeTicket(b)}\` (${b.id}, ${running.has(b.id) ? "running" : "queued"})`)
        .join(", ");
      message = `${what} waits for ${behind} to finish: operations on the same component run one at a time, in the order asked`;
    } else if (notice.type === "withdrawn") {
      message = `${what} is withdrawn: ${notice.reason}`;
    } else {
      const by = `\`${describeTicket(notice.by)}\` (${notice.by.id})`;
      message = `${what} is superseded by ${by}, asked later: it will not run, and answers with the outcome of ${notice.by.id}`;
      void this.#asked
        .get(ticket.id)
        ?.finish(true, `superseded by ${notice.by.id} (${describeTicket(notice.by)})`);
    }
    log("info", message);
    this.bus.emit("operation:step", { operation: ticket.kind, step: "queue", message, at: Date.now() });
  }

  async #execute(op: OperationLog): Promise<OperationResult> {
    try {
      const result = await this.supervisor.execute(op);
      const failed = result.components.filter((c) => !c.ok);
      await op.finish(result.ok, failed.map((c) => `${c.name}: ${c.error}`).join("; ") || null);
      return result;
    } catch (err) {
      await op.finish(false, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /**
   * Recovery, once the API answers (mutating calls get 503 RECOVERING meanwhile): sweep orphans,
   * start what was caught mid-start or in backoff, finish what the previous daemon left half-done
   * (oldest first), then turn active.
   */
  async #recover(desired: ReadonlyMap<string, DesiredState>, unclaimed: ReplicaRecord[]): Promise<void> {
    try {
      const { groups } = await sweepOrphans(this.supervisor.topology, this.#claims(), unclaimed, (m) =>
        log("warn", m),
      );
      const revived = this.supervisor.reviveAll(desired);
      if (this.#recovery) this.#recovery = { ...this.#recovery, orphans: groups.length, revived };
      if (groups.length + revived > 0)
        log(
          "info",
          `recovery: ${groups.length} orphan group(s) stopped, ${revived} replica(s) started again`,
        );
    } catch (err) {
      log("error", `recovery: the orphan sweep failed: ${String(err)}`);
    }
    await this.#resumeInterrupted();
  }

  /** Finish what the previous daemon left half-done, oldest first, then turn active. */
  async #resumeInterrupted(): Promise<void> {
    for (const op of this.#interrupted) {
      const { kind, id, resumes } = op.record;
      if (resumes > MAX_RESUMES) {
        log("error", `operation ${id} (${kind}) was interrupted ${resumes} times: given up`);
        await op.finish(false, `given up after ${resumes} interrupted attempts`);
        continue;
      }
      log("info", `resuming operation ${id} (${kind} ${op.record.targets.join(" ") || "all"})`);
      try {
        if (kind === "cutover" && this.patching) {
          const outcome = await this.patching.resume(op);
          log(outcome.result === "rolled-back" ? "warn" : "info", `cutover ${id} resumed: ${outcome.result}`);
          continue;
        }
        const result =
          kind === "down"
            ? await this.down(op)
            : kind === "maintenance-on" || kind === "maintenance-off" || kind === "up"
              ? await this.#perform(op, {})
              : await this.#execute(op);
        log(
          result.ok ? "info" : "warn",
          `operation ${id} (${kind}) resumed: ${result.ok ? "done" : "failed"}`,
        );
      } catch (err) {
        log("error", `resuming operation ${id} (${kind}) failed: ${String(err)}`);
      }
      if (kind === "down") return;
    }
    this.#interrupted = [];
    if (this.#state === "recovering") this.#state = "active";
    log("info", "recovery complete: daemon active");
  }

  /** What the orphan sweep leaves alone: live replicas and job runs in progress. */
  #claims(): Claim {
    const replicas = this.supervisor.claims();
    const runs = this.jobs.groups();
    return (p) => replicas(p) || runs.has(p.pgid);
  }

  /** Orderly shutdown: stop everything in reverse order, delete volatile records, exit. */
  down(resumed?: OperationLog): Promise<OperationResult> {
    this.#down ??= (async () => {
      this.#state = "stopping";
      // A store gone for good must not hold the shutdown: while it is unreachable, the journal's
      // writes stay queued (retried until the daemon exits) and nobody waits for them.
      this.#writer.stopWaiting();
      // A cutover still waiting its turn cannot run after `down`: refused now, nothing changed. One
      // running finishes first (`down` waits its turn), and its answer is out before the socket closes.
      this.queue.withdraw((t) => t.kind === "cutover", downRefusal);
      this.jobs.stopSchedules();
      const runs = this.jobs.running();
      if (runs.length > 0) log("info", `orderly shutdown: cancelling ${runs.length} job run(s)`);
      await Promise.all(runs.map((r) => this.jobs.cancel(r.id, "the daemon is shutting down (`down`)")));
      log("info", "orderly shutdown: stopping every component in reverse dependency order");
      const op =
        resumed ??
        (await OperationLog.begin(
          this.#writer,
          this.#record.instance,
          "down",
          [],
          this.supervisor.plan("down"),
        ));
      const { value: result } = await this.queue.submit(
        {
          id: op.id,
          kind: "down",
          targets: [],
          components: this.#touched("down", op.record.plan),
        },
        () => this.supervisor.execute(op),
      );
      await op.finish(result.ok);
      await this.patching?.idle();
      // Nothing survives `down`: whatever still carries this home's marker is stopped too.
      const { groups } = await sweepOrphans(
        this.supervisor.topology,
        () => false,
        [],
        (m) => log("warn", m),
      );
      if (groups.length > 0) log("warn", `down: ${groups.length} orphan process group(s) stopped`);
      await this.#writer.flush();
      this.#record = { ...this.#record, state: "stopped", updatedAt: Date.now() };
      const recorded = await this.#recordStopped();
      if (this.#cluster) await this.#leaveCluster(this.#cluster, recorded);
      // Let the `down` response finish streaming before the socket closes.
      setImmediate(() => void this.#close());
      return result;
    })();
    return this.#down;
  }

  /**
   * `down`'s last state writes (volatile records deleted, the daemon `stopped`). False when the
   * store could not take them: the next daemon then boots as after a crash, and finds nothing running.
   */
  async #recordStopped(): Promise<boolean> {
    if (this.#writer.unreachable) {
      log(
        "warn",
        "down: the state store is unreachable; the daemon's stop is not recorded (the next boot recovers as after a crash)",
      );
      return false;
    }
    try {
      await this.#store.clearVolatile();
      await this.#store.commit({ daemon: this.#record });
      return true;
    } catch (err) {
      log(
        "warn",
        `down: the daemon's stop could not be recorded in the state store: ${String(err)}; the next boot recovers as after a crash`,
      );
      return false;
    }
  }

  /** Leaves the cluster; the store away, says that the leave was not recorded and what that means. */
  async #leaveCluster(cluster: DaemonCluster, storeAnswered: boolean): Promise<void> {
    try {
      await cluster.leave();
    } catch (err) {
      const heard = storeAnswered ? "did not answer" : "was unreachable";
      log(
        "warn",
        `cluster: the store ${heard} (${(err as Error).message}); leaving the cluster was not recorded: node ${cluster.membership.node} will be seen down once its heartbeats are missed, and the primary lease, if it held it, lapses at its term`,
      );
    }
  }

  /**
   * `steward daemon restart` (the path a package upgrade takes): record `handover`, then exit
   * without stopping any replica. The next daemon boots as a `handover`, re-adopts every replica
   * under its pid and resumes any operation that was under way from the journal.
   */
  /**
   * `steward daemon restart`: record the handover, start the next daemon with the edge's listening
   * sockets (connections arriving meanwhile wait in their backlog), finish in-flight requests, exit.
   */
  async handover(): Promise<{ pid: number; instance: number; next: number | null }> {
    this.#admit("handover");
    this.#state = "stopping";
    log("info", "daemon restart: handing the application over to the next daemon; no replica is stopped");
    await this.#writer.flush();
    this.#record = { ...this.#record, state: "handover", updatedAt: Date.now() };
    await this.#store.commit({ daemon: this.#record });
    const { topology } = this.supervisor;
    const listeners = this.#edge?.listeningFds() ?? new Map<string, number>();
    const next = spawnDaemon(topology.file, topology.home, { handoverFrom: process.pid, listeners });
    log("info", `daemon restart: started daemon ${next.pid} with ${listeners.size} listening socket(s)`);
    setImmediate(() => void this.#close());
    return { pid: this.#record.pid, instance: this.#record.instance, next: next.pid ?? null };
  }

  /** Signals: the first SIGTERM/SIGINT is an orderly `down`; a repeat within 5 s is ignored; later ones force. */
  handleSignals(): void {
    let first = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      const now = Date.now();
      if (first === 0) {
        first = now;
        log("info", `${signal}: orderly shutdown (send it again after 5s to force)`);
        void this.down();
      } else if (now - first < REPEAT_SIGNAL_WINDOW_MS) {
        log("warn", `${signal} again within 5s: ignored, the orderly shutdown goes on`);
      } else {
        log("warn", `${signal} again: forcing — SIGKILL to every replica's process group`);
        for (const c of this.supervisor.components)
          for (const r of c.slots.all) if (r.record.pgid) signalGroup(r.record.pgid, "SIGKILL");
        try {
          unlinkSync(socketPath(this.supervisor.topology.home)); // no daemon answers there any more
        } catch {
          // already gone
        }
        this.#lock.release();
        process.exit(1);
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // A rejected promise nobody awaited is a bug, but not a reason to leave the application
    // unsupervised: say so loudly and go on.
    process.on("unhandledRejection", (reason) =>
      log(
        "error",
        `bug: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
      ),
    );
  }

  async #listen(): Promise<void> {
    const path = socketPath(this.supervisor.topology.home);
    try {
      unlinkSync(path); // left by a daemon that died; the lock proves none is running
    } catch {
      // none
    }
    const app = createApp(this.control());
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const umask = process.umask(0o177); // the socket is born 0600: no window where others can connect
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(path, 0o600);
    this.#server = server;
    const control = this.supervisor.topology.control;
    if (control) {
      this.#remote = await listenControl(control, this.#tls, app, this.tokens);
      log("info", `remote API on ${controlUrl(control)} (token required)`);
    }
  }

  async #close(): Promise<void> {
    clearInterval(this.#rotateTimer);
    this.jobs.stopSchedules();
    await this.#edge?.close();
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await new Promise<void>((resolve) => {
      if (!this.#remote) return resolve();
      this.#remote.close(() => resolve());
      this.#remote.closeAllConnections();
    });
    await this.#cluster?.close();
    await this.#store.close();
    this.#lock.release();
    log("info", "daemon stopped");
    this.#exit();
  }

  #rotateLogs(): void {
    void rotateDaemonLog(this.supervisor.topology.home);
    for (const c of this.supervisor.components)
      for (const r of c.slots.all)
        rotateIfNeeded(r.logFile, c.spec.logs).catch((err: unknown) =>
          log("warn", `log rotation of ${r.logFile} failed: ${String(err)}`),
        );
  }
}
