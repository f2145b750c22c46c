/**
 * @module cluster/membership
 * A daemon's membership of the cluster: it claims its node name at boot, heartbeats every
 * `cluster.heartbeat` on a connection of its own (a busy state writer never delays a heartbeat),
 * takes and renews the primary lease in the same round trip, and, while primary, publishes
 * through the fence. The store being away never stops the daemon: it stops acting as primary at
 * once, keeps trying, and is `up` again with the first heartbeat that gets through.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import type { CompiledCluster } from "../topology/types.js";
import { StewardError } from "../errors.js";
import { ClusterStoreError } from "./errors.js";
import { FENCED_PUBLISH, HEARTBEAT, LEAVE, RELEASE_LEASE } from "./cluster-sql.js";
import { claimNode } from "./claim.js";
import { PrimaryLease, type LeaseRole, type StepDownReason } from "./lease.js";
import { migrateCluster } from "./migrate.js";
import { redactUrl, types } from "../store/postgres/pool.js";
import type { DrainState } from "./drain-sql.js";
import { nodeSchemaName } from "./schema-name.js";
import type { FencedOutcome, FencedWriter } from "./fenced-write.js";
import type { MembershipStatus, NodeState } from "./types.js";

export interface MembershipOptions {
  url: string;
  cluster: CompiledCluster;
  home: string;
  pid: number;
  topologyDigest: string;
  /** For the daemon log: role changes, the store lost and back. */
  log: (level: "info" | "warn" | "error", message: string) => void;
}

interface HeartbeatRow {
  beat: number;
  holder: string | null;
  epoch: number;
  lease_left_ms: number;
  lease_written: number;
  nodes:
    | {
        name: string;
        state: NodeState;
        advertise: string;
        ageMs: number;
        digest: string;
        /** Taken out by `steward cluster drain` (cluster/drain-sql). */
        drain: DrainState | null;
        /** Abandoned by a patch phase, not yet caught up (cluster/patch-sql): out of other nodes' routing. */
        resync: boolean;
      }[]
    | null;
}

/** pg connection settings for membership: short timeouts, so a silent store is noticed within a beat or two. */
export function clusterClientConfig(url: string, c: CompiledCluster): pg.ClientConfig {
  const limit = Math.max(1000, c.heartbeatMs * 2);
  return {
    connectionString: url,
    connectionTimeoutMillis: limit,
    query_timeout: limit,
    statement_timeout: limit,
    keepAlive: true,
    application_name: `steward-cluster ${c.node}`,
    types, // BIGINT (epoch, ages in ms) as numbers
    // Our statements touch a handful of rows, but on tables without statistics the planner's guess
    // can pass jit_above_cost, and compiling then takes 0.3 s (seen: every heartbeat stalled).
    options: "-c jit=off",
  };
}

/**
 * A connected client on `clusterClientConfig`; a failed connect is closed before the error is
 * thrown. Errors of an idle client are dropped: the next query on it fails and its owner reconnects.
 */
export async function connectClusterClient(url: string, c: CompiledCluster): Promise<pg.Client> {
  const client = new pg.Client(clusterClientConfig(url, c));
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

export class Membership {
  readonly node: string;
  readonly schema: string;
  readonly session = randomUUID();
  /**
   * How long this node had no heartbeat before this daemon claimed it (database clock), or
   * undefined for a name new to the cluster: a long absence owes a reseed (cluster/reseed).
   */
  awayMs: number | undefined;

  /** The cluster's heartbeat interval, in ms. */
  get heartbeatMs(): number {
    return this.#o.cluster.heartbeatMs;
  }
  readonly #o: MembershipOptions;
  readonly #lease: PrimaryLease;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #stopped = false;
  #instance: number | null = null;
  #status: MembershipStatus;
  #lastOkAt: number | null = null;
  #nodes: HeartbeatRow["nodes"] = [];
  readonly #beatListeners = new Set<() => void>();

  private constructor(o: MembershipOptions, client: pg.Client) {
    this.#o = o;
    this.#client = client;
    this.node = o.cluster.node;
    this.schema = nodeSchemaName(o.cluster.node);
    this.#lease = new PrimaryLease(o.cluster.leaseMs, (role, epoch, why) =>
      this.#roleChanged(role, epoch, why),
    );
    this.#status = {
      node: this.node,
      advertise: o.cluster.advertise,
      schema: this.schema,
      link: "connected",
      primary: false,
      epoch: null,
      leaseHolder: null,
      nodes: { up: 0, suspect: 0, down: 0, left: 0 },
      heartbeats: { ok: 0, failed: 0, lastOkAgoMs: null },
      fencedWrites: {
        accepted: 0,
        rejected: 0,
        by: {
          record: { accepted: 0, rejected: 0 },
          placement: { accepted: 0, rejected: 0 },
          operations: { accepted: 0, rejected: 0 },
        },
      },
      terms: { acquired: 0, steppedDown: 0, lastStepDown: null },
    };
  }

  /**
   * Creates the cluster tables if need be and claims this node's name; heartbeats start at once.
   *
   * @throws NodeNameTakenError (STW-5001) when a live daemon elsewhere holds the name; nothing written.
   * @throws ClusterStoreError (STW-5002) when the store cannot be reached or set up (the daemon does not start).
   */
  static async join(o: MembershipOptions): Promise<Membership> {
    const client = new pg.Client(clusterClientConfig(o.url, o.cluster));
    client.on("error", () => undefined); // a lost connection fails the next query, which reconnects
    try {
      await client.connect();
      await migrateCluster(client);
      const m = new Membership(o, client);
      m.awayMs = await claimNode(client, {
        node: m.node,
        schema: m.schema,
        session: m.session,
        advertise: o.cluster.advertise,
        hostname: hostname(),
        home: o.home,
        pid: o.pid,
        topologyDigest: o.topologyDigest,
        heartbeatMs: o.cluster.heartbeatMs,
        allowedMisses: o.cluster.allowedMisses,
      });
      m.#schedule(0);
      return m;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (err instanceof StewardError) throw err;
      throw new ClusterStoreError(redactUrl(o.url), (err as Error).message, err);
    }
  }

  /** The daemon's instance count, once known (the row shows it from the next heartbeat). */
  set instance(n: number) {
    this.#instance = n;
  }

  /** The epoch this node may act as primary under now, or null. */
  primaryEpoch(): number | null {
    return this.#lease.epochNow();
  }

  status(): MembershipStatus {
    const s = this.#status;
    const epoch = this.#lease.epochNow();
    return {
      ...s,
      primary: epoch !== null,
      epoch: epoch ?? s.epoch,
      heartbeats: {
        ...s.heartbeats,
        lastOkAgoMs: this.#lastOkAt === null ? null : Math.round(PrimaryLease.now() - this.#lastOkAt),
      },
    };
  }

  /** Every node as of the last heartbeat (no round trip): name, state, advertised address. */
  get nodes(): NonNullable<HeartbeatRow["nodes"]> {
    return this.#nodes ?? [];
  }

  /** Counts one write made as primary through the fence (`unchanged` is not counted). */
  fencedWrite(writer: FencedWriter, outcome: FencedOutcome): void {
    if (outcome === "unchanged") return;
    const w = this.#status.fencedWrites;
    w[outcome] += 1;
    w.by[writer][outcome] += 1;
  }

  /** Called after each successful heartbeat (the edge refreshes other nodes' replicas then). */
  onBeat(listener: () => void): () => void {
    this.#beatListeners.add(listener);
    return () => this.#beatListeners.delete(listener);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), Math.max(0, delayMs));
  }

  async #tick(): Promise<void> {
    const sentAt = PrimaryLease.now();
    const tried = this.#lease.wantsLease(sentAt);
    try {
      const client = await this.#connected();
      const { rows } = await client.query<HeartbeatRow>(HEARTBEAT, [
        this.node,
        this.session,
        this.#instance,
        this.#o.topologyDigest,
        tried,
        this.#lease.believedEpoch,
        this.#o.cluster.leaseMs,
      ]);
      const row = rows[0];
      if (row === undefined) throw new Error("the heartbeat returned no row");
      if (this.#stopped) return;
      if (row.beat === 0) return this.#taken();
      this.#beatOk(row);
      // Only a lease this very statement wrote extends what this node may do.
      const renewed = tried && row.lease_written === 1;
      this.#lease.answered(sentAt, renewed, this.node, row.holder, row.epoch, row.lease_left_ms);
      this.#armWatchdog();
      await this.#publish(client);
    } catch (err) {
      this.#beatFailed(err);
    }
    this.#schedule(sentAt + this.#o.cluster.heartbeatMs - PrimaryLease.now());
  }

  /** The primary's write for the cluster, fenced on its epoch in the database. */
  async #publish(client: pg.Client): Promise<void> {
    const epoch = this.#lease.epochNow();
    if (epoch === null) return;
    const r = await client.query(FENCED_PUBLISH, [this.node, epoch, this.#o.topologyDigest]);
    this.fencedWrite("record", r.rowCount === 1 ? "accepted" : "rejected");
    if (r.rowCount !== 1) this.#lease.stepDown("held by another node");
  }

  async #connected(): Promise<pg.Client> {
    this.#client ??= await connectClusterClient(this.#o.url, this.#o.cluster);
    return this.#client;
  }

  #beatOk(row: HeartbeatRow): void {
    const s = this.#status;
    if (s.link === "unreachable")
      this.#o.log("info", `cluster: the store answers again; node ${this.node} is up`);
    s.link = "connected";
    s.heartbeats.ok += 1;
    this.#lastOkAt = PrimaryLease.now();
    s.leaseHolder = row.lease_left_ms > 0 ? row.holder : null;
    if (row.lease_left_ms > 0) s.epoch = row.epoch;
    this.#nodes = row.nodes ?? [];
    const counts: Record<NodeState, number> = { up: 0, suspect: 0, down: 0, left: 0 };
    for (const n of this.#nodes) counts[n.state] += 1;
    s.nodes = counts;
    for (const l of [...this.#beatListeners]) l();
  }

  #beatFailed(err: unknown): void {
    this.#lease.failed();
    if (this.#stopped) return; // closed while a heartbeat was in flight
    const s = this.#status;
    s.heartbeats.failed += 1;
    if (s.link === "connected")
      this.#o.log(
        "warn",
        `cluster: heartbeat failed (${(err as Error).message}); not acting as primary, supervision continues, retrying every ${this.#o.cluster.heartbeatMs} ms`,
      );
    if (s.link !== "left" && s.link !== "taken") s.link = "unreachable";
    const client = this.#client;
    this.#client = undefined;
    void client?.end().catch(() => undefined);
  }

  #taken(): void {
    this.#lease.stepDown("released");
    this.#status.link = "taken";
    this.#stop();
    this.#o.log(
      "error",
      `cluster: node name ${this.node} is no longer this daemon's session (another daemon of this node took it over, or it was marked left); heartbeats stopped`,
    );
  }

  /** Steps down when the term may pass before the next heartbeat can renew (an event loop that stalls). */
  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    const until = this.#lease.actUntil;
    if (until === 0) return;
    this.#watchdog = setTimeout(() => this.#lease.epochNow(), until - PrimaryLease.now() + 1);
    this.#watchdog.unref();
  }

  #roleChanged(role: LeaseRole, epoch: number | null, why?: StepDownReason): void {
    const t = this.#status.terms;
    if (role === "primary") {
      t.acquired += 1;
      this.#status.epoch = epoch;
      this.#o.log("info", `cluster: node ${this.node} is primary (epoch ${epoch})`);
    } else {
      t.steppedDown += 1;
      t.lastStepDown = why ?? null;
      this.#o.log("warn", `cluster: node ${this.node} stopped acting as primary: ${why ?? ""}`);
    }
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
  }

  /** Marks this node `left` and gives up the lease; heartbeats stop. The daemon keeps supervising. */
  async leave(): Promise<void> {
    const epoch = this.#lease.believedEpoch;
    this.#lease.stepDown("released");
    this.#stop();
    const client = await this.#connected();
    await client.query(LEAVE, [this.node, this.session]);
    if (epoch !== null) await client.query(RELEASE_LEASE, [this.node, epoch]);
    this.#status.link = "left";
    this.#o.log("info", `cluster: node ${this.node} left the cluster`);
  }

  /** Stops heartbeats; gives the lease up when holding it, so the next primary need not wait. */
  async close(): Promise<void> {
    const epoch = this.#lease.believedEpoch;
    this.#lease.stepDown("released");
    this.#stop();
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    if (epoch !== null) await client.query(RELEASE_LEASE, [this.node, epoch]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
