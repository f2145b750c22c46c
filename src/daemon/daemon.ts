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
import { EventBus } from "../events/events.js";
import { Supervisor, type OperationResult } from "../lifecycle/supervisor.js";
import { rotateIfNeeded, signalGroup } from "../process/index.js";
import { openStore } from "../store/open-store.js";
import type { DaemonRecord, ReplicaRecord } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import { StateWriter } from "../store/state-writer.js";
import { topologyDigest } from "../topology/digest.js";
import { compileKey, readCompiled } from "../topology/compiled-cache.js";
import { loadTopologyIsolated } from "../topology/load-isolated.js";
import { locateHome } from "../topology/locate-home.js";
import { bootRecord, sweepLeftovers } from "./boot.js";
import { acquireLock, type DaemonLock } from "./lock.js";
import { log } from "./log.js";
import { statusOf } from "./status.js";

/** How often replica logs are checked for rotation. */
const ROTATE_EVERY_MS = 10_000;
/** A repeated stop signal within this window is ignored; after it, the next one forces. */
const REPEAT_SIGNAL_WINDOW_MS = 5_000;

export function socketPath(home: string): string {
  return join(home, "steward.sock");
}

export class Daemon {
  readonly supervisor: Supervisor;
  readonly bus: EventBus;
  readonly #store: StateStore;
  readonly #writer: StateWriter;
  readonly #lock: DaemonLock;
  #record: DaemonRecord;
  readonly #digest: string;
  #server: Server | undefined;
  #state: "active" | "stopping" = "active";
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
  ) {
    this.supervisor = supervisor;
    this.bus = bus;
    this.#store = store;
    this.#writer = writer;
    this.#lock = lock;
    this.#record = record;
    this.#digest = topologyDigest(supervisor.topology.file);
    this.#exited = new Promise((resolve) => (this.#exit = resolve));
  }

  /** Boot a daemon for the topology file; throws `DaemonRunningError` when one already runs on its home. */
  static async boot(file: string): Promise<Daemon> {
    const home = locateHome(file)?.home;
    const topology = (home && readCompiled(home, compileKey(file))) || (await loadTopologyIsolated(file));
    mkdirSync(join(topology.home, "logs"), { recursive: true, mode: 0o700 });
    const lock = acquireLock(topology.home);
    try {
      const store = await openStore(topology.store);
      const previous = await store.readDaemon();
      const record = bootRecord(previous, topology.file);
      // After a crash the records say what ran; after an orderly shutdown there are none.
      const records = record.bootKind === "recovered" ? await store.listReplicas() : [];
      const desired = new Map((await store.listComponents()).map((c) => [c.name, c.desired]));
      await store.commit({ daemon: record });
      const bus = new EventBus();
      const writer = new StateWriter(store, (err) =>
        log("error", `state store write failed: ${String(err)}`),
      );
      const supervisor = new Supervisor(topology, { bus, writer }, records);
      if (record.bootKind === "recovered") {
        log(
          "warn",
          `the previous daemon (pid ${previous?.pid}) did not shut down in order; instance ${record.instance}: recovering`,
        );
        const claimed = (r: ReplicaRecord): boolean =>
          topology.components.some((c) => c.name === r.component && r.index < c.replicas);
        await sweepLeftovers(
          records.filter((r) => !claimed(r)),
          topology,
          (m) => log("warn", m),
        );
        const { adopted, lost } = supervisor.adoptAll(desired);
        log("info", `recovery: ${adopted} replica(s) re-adopted, ${lost} gone while no daemon watched them`);
      }
      const daemon = new Daemon(supervisor, bus, store, writer, lock, record);
      daemon.#logEvents();
      await daemon.#listen();
      daemon.#rotateTimer = setInterval(() => daemon.#rotateLogs(), ROTATE_EVERY_MS).unref();
      log(
        "info",
        `daemon ${record.pid} active on ${socketPath(topology.home)} (instance ${record.instance}, ${record.bootKind} boot)`,
      );
      return daemon;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Resolves when the daemon has shut down. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  control(): DaemonControl {
    return {
      bus: this.bus,
      status: () => statusOf(this.supervisor, this.#digest, this.#record, this.#state, this.#store.location),
      topologyDigest: this.#digest,
      topologyFile: this.supervisor.topology.file,
      resolve: (names) => this.supervisor.resolve(names),
      run: (operation, names) => this.run(operation, names),
    };
  }

  run(operation: OperationName, names: string[]): Promise<OperationResult> {
    switch (operation) {
      case "up":
      case "start":
        return this.supervisor.start(names, operation);
      case "stop":
        return this.supervisor.stop(names);
      case "restart":
        return this.supervisor.restart(names);
      case "down":
        return this.down();
    }
  }

  /** Orderly shutdown: stop everything in reverse order, delete volatile records, exit. */
  down(): Promise<OperationResult> {
    this.#down ??= (async () => {
      this.#state = "stopping";
      log("info", "orderly shutdown: stopping every component in reverse dependency order");
      const result = await this.supervisor.stop([], "down");
      await this.#writer.flush();
      await this.#store.clearVolatile();
      this.#record = { ...this.#record, state: "stopped", updatedAt: Date.now() };
      await this.#store.commit({ daemon: this.#record });
      // Let the `down` response finish streaming before the socket closes.
      setImmediate(() => void this.#close());
      return result;
    })();
    return this.#down;
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
          for (const r of c.replicas) if (r.record.pgid) signalGroup(r.record.pgid, "SIGKILL");
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
  }

  async #listen(): Promise<void> {
    const path = socketPath(this.supervisor.topology.home);
    try {
      unlinkSync(path); // left by a daemon that died; the lock proves none is running
    } catch {
      // none
    }
    const server = createAdaptorServer({ fetch: createApp(this.control()).fetch }) as Server;
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
  }

  async #close(): Promise<void> {
    clearInterval(this.#rotateTimer);
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await this.#store.close();
    this.#lock.release();
    log("info", "daemon stopped");
    this.#exit();
  }

  #rotateLogs(): void {
    for (const c of this.supervisor.components)
      for (const r of c.replicas)
        rotateIfNeeded(r.logFile, c.spec.logs).catch((err: unknown) =>
          log("warn", `log rotation of ${r.logFile} failed: ${String(err)}`),
        );
  }

  #logEvents(): void {
    this.bus.subscribe(({ name, data }) => {
      if ("index" in data) {
        const why = data.reason ? `: ${data.reason}` : "";
        log(
          name === "replica:failed" || name === "replica:crashed" ? "warn" : "info",
          `${data.component}[${data.index}] ${data.previous} → ${data.state}${data.pid ? ` (pid ${data.pid})` : ""}${why}`,
        );
      } else if (name === "operation:failed") {
        log("warn", `${data.operation}: ${data.component ?? ""} ${data.message}`);
      }
    });
  }
}
