/**
 * @module cluster/placement-agent
 * This node's side of `nodes: any` placement: every heartbeat interval it reads the placement
 * table (and, while primary, writes a new one through the fence when the plan changed), tells the
 * daemon how many replicas of each component it runs here, and **self-fences** its singletons.
 *
 * Self-fencing (docs/cluster.md has the argument): each read also returns this node's heartbeat
 * age `a` by the database's clock; sent at monotonic `s`, it proves the last heartbeat was
 * written no earlier than `s − a`. The node may run its singletons only until
 * `s − a + fence` (fence = heartbeat × (allowed_misses + 1)). A timer fires at that deadline, and
 * the deadline is checked before any singleton starts — so a daemon paused past it (SIGSTOP, GC)
 * stops its singletons the moment it runs again, before any later answer is looked at.
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import type { CompiledCluster } from "../topology/types.js";
import { connectClusterClient } from "./membership.js";
import {
  fenceAfterMs,
  planPlacement,
  samePlacement,
  type Assignment,
  type PlacedComponent,
  type PlanNode,
} from "./placement-plan.js";
import { writePlacement, type PlacementWrite } from "./placement-store.js";
import { drainOf } from "./drain-sql.js";
import type { NodeState } from "./types.js";

export interface PlacementAgentOptions {
  url: string;
  cluster: CompiledCluster;
  session: string;
  /** The epoch this node may act as primary under now, or null. */
  primaryEpoch: () => number | null;
  components: PlacedComponent[];
  /** The local counts changed, or the fence did: the daemon starts and stops replicas to match. */
  changed: () => void;
  /** The singletons must stop now; `late`: past the time their stop budget should have ended. */
  fence: (late: boolean) => void;
  /** Each fenced write of the table, counted in the membership status (`fencedWrites`). */
  fencedWrite: (outcome: PlacementWrite) => void;
  /** After every read that got through (the fence keeper is told the new deadline then). */
  read?: () => void;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

const POLL = `SELECT
  (SELECT (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::bigint FROM steward_cluster.nodes
   WHERE name = $1 AND session = $2 AND state = 'up') AS own_age,
  (SELECT json_agg(json_build_object('component', component, 'node', node, 'replicas', replicas))
   FROM steward_cluster.placements) AS rows,
  (SELECT json_agg(json_build_object('name', name, 'state', derived_state, 'ageMs', age_ms,
     'heartbeatMs', heartbeat_ms, 'allowedMisses', allowed_misses, 'drain', ${drainOf("v")}))
   FROM steward_cluster.node_view v) AS nodes`;

interface PollRow {
  own_age: number | null;
  rows: { component: string; node: string; replicas: number }[] | null;
  nodes: (PlanNode & { state: NodeState })[] | null;
}

export class PlacementAgent {
  readonly #o: PlacementAgentOptions;
  readonly #fenceMs: number;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** This node's counts, from the last read; undefined before the first. */
  #local: Map<string, number> | undefined;
  #table: Assignment = new Map();
  /** Monotonic ms until which singletons may run here. */
  #runUntil = 0;
  #fenced = true;

  constructor(o: PlacementAgentOptions) {
    this.#o = o;
    this.#fenceMs = fenceAfterMs(o.cluster.heartbeatMs, o.cluster.allowedMisses);
    this.#schedule(0);
  }

  /** Replicas of `component` this node runs now (0 before the first read, and for a fenced singleton). */
  count(component: string): number {
    const c = this.#o.components.find((x) => x.name === component);
    if (c === undefined || this.#local === undefined) return 0;
    if (c.singleton && !this.#mayRunSingletons()) return 0;
    return this.#local.get(component) ?? 0;
  }

  /** The whole table as last read. */
  get table(): Assignment {
    return this.#table;
  }

  /** Monotonic ms until which singletons may run here (0: not yet, or never proven). */
  get runUntil(): number {
    return this.#runUntil;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  #mayRunSingletons(now = performance.now()): boolean {
    if (now >= this.#runUntil) this.#fence(now);
    return !this.#fenced;
  }

  #fence(now: number): void {
    if (this.#fenced) return;
    this.#fenced = true;
    const late = Math.max(0, now - this.#runUntil);
    this.#o.log(
      "warn",
      `cluster: no heartbeat proven within ${this.#fenceMs} ms: stopping this node's singletons (self-fence${late > 0 ? `, ${Math.round(late)} ms late` : ""})`,
    );
    // Later than a heartbeat: the stop budget's time is partly gone, so no grace is left to give.
    this.#o.fence(late > this.#o.cluster.heartbeatMs);
    this.#o.changed();
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#poll(), Math.max(0, ms));
  }

  async #poll(): Promise<void> {
    const sentAt = performance.now();
    // Paused past the deadline: fence before looking at anything else.
    this.#mayRunSingletons(sentAt);
    try {
      const client = await this.#connected();
      const { rows } = await client.query<PollRow>(POLL, [this.#o.cluster.node, this.#o.session]);
      const row = rows[0];
      if (this.#closed || row === undefined) return;
      this.#read(row, sentAt);
      const epoch = this.#o.primaryEpoch();
      if (epoch !== null) await this.#primary(client, row, epoch);
    } catch (err) {
      const client = this.#client;
      this.#client = undefined;
      void client?.end().catch(() => undefined);
      if (!this.#closed) this.#o.log("warn", `cluster: placement read failed (${(err as Error).message})`);
    }
    this.#schedule(sentAt + this.#o.cluster.heartbeatMs - performance.now());
  }

  #read(row: PollRow, sentAt: number): void {
    const table: Assignment = new Map();
    for (const r of row.rows ?? []) {
      const m = table.get(r.component) ?? new Map<string, number>();
      m.set(r.node, r.replicas);
      table.set(r.component, m);
    }
    this.#table = table;
    const local = new Map<string, number>();
    for (const c of this.#o.components) local.set(c.name, table.get(c.name)?.get(this.#o.cluster.node) ?? 0);
    const before = this.#local;
    this.#local = local;
    let changed = before === undefined || [...local].some(([c, k]) => before.get(c) !== k);
    if (row.own_age !== null) {
      // The heartbeat was written no earlier than sentAt − age (on this node's clock).
      const until = sentAt - Number(row.own_age) + this.#fenceMs;
      const now = performance.now();
      if (until > this.#runUntil) this.#runUntil = until;
      if (this.#fenced && now < this.#runUntil) {
        this.#fenced = false;
        changed = true;
      }
      clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = setTimeout(() => this.#mayRunSingletons(), this.#runUntil - now + 1);
    }
    if (changed) this.#o.changed();
    this.#o.read?.();
  }

  /** The primary's part: when the plan differs from the table, write it through the fence. */
  async #primary(client: pg.Client, row: PollRow, epoch: number): Promise<void> {
    const planned = planPlacement(this.#o.components, row.nodes ?? [], this.#table);
    if (samePlacement(this.#table, planned)) return;
    this.#o.fencedWrite(await writePlacement(client, this.#o.cluster.node, epoch, this.#o.components));
  }

  async #connected(): Promise<pg.Client> {
    this.#client ??= await connectClusterClient(this.#o.url, this.#o.cluster);
    return this.#client;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadlineTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
