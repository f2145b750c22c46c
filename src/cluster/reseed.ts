/**
 * @module cluster/reseed
 * Re-seeding a node from a peer (design §7, the manual's "long outage: destroy and copy again").
 * A component with `reseed` owes one on a node whose daemon registered after more than
 * `reseed.after` without a heartbeat — measured by the database's clock at the name's claim
 * (cluster/claim), never by comparing two machines' clocks. The debt is durable
 * (`steward_cluster.reseeds`, cluster/reseed-sql): a daemon that dies before paying it pays it at
 * its next boot. It is paid before the component's first start on this node, once for all its
 * replicas: the command runs with `${peer}`, `${peer_port}`, `${peer_node}` naming a ready replica
 * of the component on another `up` node, waiting (one try per heartbeat) while there is none. A
 * reseed that fails keeps the debt and the replica does not start, with the reason, as a failed
 * `recover` hook does.
 */
import type pg from "pg";
import { formatMs, runHook } from "../process/index.js";
import type { HookEnv } from "../lifecycle/stop-budget.js";
import { renderCommand } from "../topology/render.js";
import type { CompiledComponent, ReseedSpec } from "../topology/types.js";
import { readRemoteReplicas, type HeartbeatNode, type RemoteReplicaRecord } from "./remote-replicas.js";
import { BEGIN_RESEED, END_RESEED, INTERRUPTED_RESEEDS, LATEST_RESEEDS, OWE_RESEED } from "./reseed-sql.js";

/** A reseed row: `owed` until one is `done`; each attempt `running`, then `done` or `failed`. */
export interface ReseedRecord {
  component: string;
  state: "owed" | "running" | "done" | "failed";
  /** How long the node was away when the debt arose, in ms (database clock). */
  awayMs: number | null;
  peerNode: string | null;
  /** The peer's advertised address and its replica's port. */
  peer: string | null;
  peerPort: number | null;
  durationMs: number | null;
  exitCode: number | null;
  reason: string | null;
  /** When it became owed, and when the row last changed (epoch ms, database clock). */
  owedAt: number;
  at: number;
}

/** A component's reseed for `steward status`: the latest record and what it waits for now. */
export interface ReseedStatus {
  component: string;
  /** True until a reseed is done: the next start runs one first. */
  owed: boolean;
  /** Set while a start waits for a peer, or while the command runs. */
  now?: string;
  last?: ReseedRecord;
}

interface Row {
  component: string;
  state: ReseedRecord["state"];
  away_ms: number | null;
  peer_node: string | null;
  peer: string | null;
  peer_port: number | null;
  duration_ms: number | null;
  exit_code: number | null;
  reason: string | null;
  owed_at: number;
  at: number;
}

const record = (r: Row): ReseedRecord => ({
  component: r.component,
  state: r.state,
  awayMs: r.away_ms,
  peerNode: r.peer_node,
  peer: r.peer,
  peerPort: r.peer_port,
  durationMs: r.duration_ms,
  exitCode: r.exit_code,
  reason: r.reason,
  owedAt: Number(r.owed_at),
  at: Number(r.at),
});

export interface ReseedOptions {
  node: string;
  home: string;
  components: readonly CompiledComponent[];
  /** Reads other nodes' replicas and writes this node's reseed rows. */
  db: pg.Pool;
  /** The last heartbeat's nodes, and a way to hear the next heartbeat. */
  membership: { readonly nodes: readonly HeartbeatNode[]; onBeat(l: () => void): () => void };
  heartbeatMs: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

/** One reseed in progress, shared by the replicas of its component that wait for it. */
interface Run {
  done: Promise<void>;
  /** Replicas still waiting; a wait for a peer ends when none is left (all stopped). */
  waiters: number;
}

export class Reseeds {
  readonly #o: ReseedOptions;
  readonly #specs: Map<string, ReseedSpec>;
  readonly #latest = new Map<string, ReseedRecord>();
  readonly #now = new Map<string, string>();
  readonly #runs = new Map<string, Run>();

  private constructor(o: ReseedOptions) {
    this.#o = o;
    this.#specs = new Map(o.components.flatMap((c) => (c.reseed ? [[c.name, c.reseed]] : [])));
  }

  /**
   * At boot: an attempt a previous daemon left unfinished has failed; each component with
   * `reseed` owes one when the node was away longer than its `after` — unless its replicas
   * outlived the daemon (`alive`: adopted, so its data never stopped being served).
   * @param awayMs the node's absence by the database's clock (undefined: a name new to the cluster)
   */
  static async attach(
    o: ReseedOptions,
    awayMs: number | undefined,
    alive: (component: string) => boolean,
  ): Promise<Reseeds> {
    const r = new Reseeds(o);
    if (r.#specs.size === 0) return r;
    await o.db.query(INTERRUPTED_RESEEDS, [o.node]);
    for (const [component, spec] of r.#specs) {
      if (awayMs === undefined) continue;
      if (awayMs <= spec.afterMs) {
        o.log(
          "info",
          `reseed ${component}: node ${o.node} was away ${formatMs(awayMs)} (not more than ${formatMs(spec.afterMs)}): no reseed`,
        );
        continue;
      }
      if (alive(component)) {
        o.log(
          "info",
          `reseed ${component}: node ${o.node} was away ${formatMs(awayMs)} (more than ${formatMs(spec.afterMs)}), but its replicas kept running: no reseed`,
        );
        continue;
      }
      await o.db.query(OWE_RESEED, [o.node, component, awayMs]);
      o.log(
        "info",
        `reseed ${component}: node ${o.node} was away ${formatMs(awayMs)} (more than ${formatMs(spec.afterMs)}): its data is copied from a peer before its first start`,
      );
    }
    const { rows } = await o.db.query<Row>(LATEST_RESEEDS, [o.node]);
    for (const row of rows) if (r.#specs.has(row.component)) r.#latest.set(row.component, record(row));
    return r;
  }

  /** True while `component` owes a reseed on this node. */
  owed(component: string): boolean {
    const last = this.#latest.get(component);
    return this.#specs.has(component) && last !== undefined && last.state !== "done";
  }

  /**
   * Before a replica of `component` starts: undefined when nothing is owed, else a promise that
   * settles once the (shared) reseed is done — rejected with the reason when it failed, or when
   * `signal` (a stop) aborts the wait.
   */
  gate(component: string, signal: AbortSignal, env: () => Promise<HookEnv>): Promise<void> | undefined {
    if (!this.owed(component)) return undefined;
    let run = this.#runs.get(component);
    if (run === undefined) {
      const created: Run = { done: Promise.resolve(), waiters: 0 };
      created.done = this.#reseed(component, env, created).finally(() => this.#runs.delete(component));
      this.#runs.set(component, created);
      run = created;
    }
    const shared = run;
    shared.waiters += 1;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        shared.waiters -= 1;
        reject(new Error("cancelled by a stop while its reseed was pending"));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      shared.done.then(
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** One line's data per component with `reseed` that has a record or something under way. */
  status(): ReseedStatus[] {
    return [...this.#specs.keys()].flatMap((component) => {
      const last = this.#latest.get(component);
      const now = this.#now.get(component);
      if (last === undefined && now === undefined) return [];
      return [
        {
          component,
          owed: this.owed(component),
          ...(now !== undefined ? { now } : {}),
          ...(last !== undefined ? { last } : {}),
        },
      ];
    });
  }

  async close(): Promise<void> {
    await this.#o.db.end().catch(() => undefined);
  }

  async #reseed(component: string, hookEnv: () => Promise<HookEnv>, run: Run): Promise<void> {
    const { log, node } = this.#o;
    const spec = this.#specs.get(component)!;
    try {
      const peer = await this.#waitForPeer(component, run);
      const env = await hookEnv();
      const at = `${peer.node} (${peer.host}:${peer.port})`;
      this.#now.set(component, `copying from ${at}`);
      log("info", `reseed ${component}: copying from ${at}`);
      const begun = await this.#o.db
        .query<{ id: string }>(BEGIN_RESEED, [node, component, peer.node, peer.host, peer.port])
        .catch((err: unknown) => {
          throw new Error(
            `cannot record the reseed from ${peer.node} in the store (${(err as Error).message}); the next start tries again`,
          );
        });
      const id = begun.rows[0]?.id;
      const command = renderCommand(spec.command, {
        replica: 0,
        home: this.#o.home,
        node,
        peer: peer.host,
        peerPort: peer.port,
        peerNode: peer.node,
      });
      const result = await runHook({ command, timeoutMs: spec.timeoutMs, ...env });
      const ok = result.exitCode === 0 && !result.timedOut;
      const how = result.timedOut
        ? `timed out after ${formatMs(spec.timeoutMs)}`
        : `exited with ${result.exitCode ?? result.signal}`;
      const { rows } = await this.#o.db
        .query<Row>(END_RESEED, [
          id,
          ok ? "done" : "failed",
          result.durationMs,
          result.exitCode,
          ok ? null : how,
        ])
        .catch((err: unknown) => {
          throw new Error(
            `reseed from ${peer.node} ${how}, but the store could not record it (${(err as Error).message}); the next start reseeds again`,
          );
        });
      if (rows[0]) this.#latest.set(component, record(rows[0]));
      if (ok) {
        log("info", `reseed ${component}: done from ${at} in ${formatMs(result.durationMs)}`);
        return;
      }
      log("warn", `reseed ${component} from ${at} ${how}; see ${env.logFile}`);
      throw new Error(
        `reseed from ${peer.node} ${how}; the replica does not start until a reseed succeeds (see ${env.logFile})`,
      );
    } finally {
      this.#now.delete(component);
    }
  }

  /** A ready replica of `component` on another `up` node: tried at once, then after each heartbeat. */
  async #waitForPeer(component: string, run: Run): Promise<RemoteReplicaRecord> {
    const { log, node, db, membership } = this.#o;
    const since = Date.now();
    let said = "";
    for (;;) {
      let why: string;
      try {
        const found = await readRemoteReplicas(db, node, membership.nodes, [component]);
        found.sort((a, b) => (a.node === b.node ? a.index - b.index : a.node < b.node ? -1 : 1));
        if (found[0]) return found[0];
        why = `no ready replica of ${component} on another up node`;
      } catch (err) {
        why = `cannot read other nodes' replicas (${(err as Error).message})`;
      }
      if (run.waiters === 0) throw new Error("cancelled by a stop while waiting for a peer to reseed from");
      this.#now.set(
        component,
        `waiting for a peer to copy from: ${why} (for ${formatMs(Date.now() - since)})`,
      );
      if (why !== said)
        log(
          "warn",
          `reseed ${component}: waiting for a peer to copy from: ${why}; trying again every heartbeat`,
        );
      said = why;
      await this.#nextBeat();
    }
  }

  /** Resolves at the next heartbeat (or after two heartbeat intervals while the store is away). */
  #nextBeat(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#o.heartbeatMs * 2);
      const off = this.#o.membership.onBeat(done);
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }
}
