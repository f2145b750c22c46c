/**
 * @module cluster/node-drain
 * The drained node's side of `steward cluster drain|undrain` (journal: cluster/drain-sql). After
 * each heartbeat that shows its own drain row, the node works through it once per request:
 *
 * - **draining**: the other nodes' edges already route around it (they leave out a node with a
 *   row at their next heartbeat); it records what it runs, waits until its `nodes: any` replicas
 *   are ready on the other nodes (the primary placed them there: make before break), stops every
 *   component through its stop budget — each replica's stop waits out the other edges first
 *   (daemon/edge-wiring) — and marks itself `drained`;
 * - **undraining**: it starts what the drain stopped, waits until ready, and deletes the row, so
 *   other edges take its replicas back at their next heartbeat.
 *
 * A daemon that dies mid-way does it again at its next boot (the row is still there); the recorded
 * list is kept from the first try, so an undrain starts what ran before the drain.
 */
import type pg from "pg";
import type { OperationResult } from "../lifecycle/supervisor.js";
import { formatMs } from "../process/duration.js";
import { DRAIN_COMPONENTS, DRAIN_PROGRESS, DRAINED, SELECT_DRAIN, UNDRAINED } from "./drain-sql.js";
import type { Membership } from "./membership.js";
import { readReadyCounts, readyOutside } from "./ready-counts.js";

export interface DrainHost {
  /** The components asked to run on this node now. */
  running(): string[];
  /** The local operation, as `steward start|stop` runs it. */
  run(kind: "start" | "stop", components: string[]): Promise<OperationResult>;
  /** False while the daemon recovers or shuts down. */
  ready(): boolean;
}

export interface NodeDrainOptions {
  pool: pg.Pool;
  membership: Membership;
  /** `nodes: any` components other than singletons (a singleton is never placed twice: it moves once stopped). */
  placed: { name: string; replicas: number }[];
  /** How long to wait for replicas placed elsewhere before stopping anyway (with a warning). */
  placedWithinMs: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

interface DrainRow {
  node: string;
  state: "draining" | "drained" | "undraining";
  components: string[] | null;
  asked_at: string;
  progress: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class NodeDrain {
  readonly #o: NodeDrainOptions;
  #host: DrainHost | undefined;
  #busy = false;
  /** The request last worked through (state and when it was asked): each is worked through once. */
  #handled: string | undefined;
  #unsubscribe: () => void = () => undefined;

  constructor(o: NodeDrainOptions) {
    this.#o = o;
  }

  start(host: DrainHost): void {
    this.#host = host;
    this.#unsubscribe = this.#o.membership.onBeat(() => this.#onBeat());
  }

  close(): void {
    this.#unsubscribe();
  }

  #onBeat(): void {
    const m = this.#o.membership;
    const mine = m.nodes.find((n) => n.name === m.node)?.drain ?? null;
    if (this.#busy || !this.#host?.ready() || (mine !== "draining" && mine !== "undraining")) return;
    this.#busy = true;
    void this.#work(mine)
      // The store away: the next heartbeat tries again. A stop or start that failed is not retried.
      .catch((err: unknown) => this.#o.log("warn", `cluster: ${mine} this node: ${(err as Error).message}`))
      .finally(() => (this.#busy = false));
  }

  async #work(state: "draining" | "undraining"): Promise<void> {
    const { pool, membership } = this.#o;
    const row = (await pool.query<DrainRow>(SELECT_DRAIN, [membership.node])).rows[0];
    if (row?.state !== state) return;
    const key = `${row.state} ${row.asked_at}`;
    if (this.#handled === key) return;
    if (state === "draining") await this.#drain();
    else await this.#undrain(row.components ?? []);
    this.#handled = key;
  }

  async #say(state: string, progress: string): Promise<void> {
    this.#o.log("info", `cluster: ${state} ${this.#o.membership.node}: ${progress}`);
    await this.#o.pool.query(DRAIN_PROGRESS, [this.#o.membership.node, state, progress]);
  }

  async #drain(): Promise<void> {
    const { pool, membership } = this.#o;
    const t0 = Date.now();
    const host = this.#host!;
    const recorded = await pool.query<{ components: string[] }>(DRAIN_COMPONENTS, [
      membership.node,
      JSON.stringify(host.running()),
    ]);
    if (recorded.rowCount !== 1) return; // no longer draining: an undrain came first
    await this.#waitPlacedElsewhere();
    const running = host.running();
    let outcome = "nothing ran here";
    if (running.length > 0) {
      await this.#say("draining", `stopping ${running.join(", ")} through their stop budgets`);
      const r = await host.run("stop", running);
      if (!r.ok) {
        const why = r.components
          .filter((c) => !c.ok)
          .map((c) => `${c.name}: ${c.error ?? "failed"}`)
          .join("; ");
        await this.#say(
          "draining",
          `failed: ${why}; still draining — see the daemon log, then undrain or drain again`,
        );
        return;
      }
      outcome = `stopped ${running.join(", ")}`;
    }
    await pool.query(DRAINED, [membership.node, `${outcome} in ${formatMs(Date.now() - t0)}`]);
    this.#o.log("info", `cluster: ${membership.node} drained (${outcome})`);
  }

  /** Until every placed component has its replicas ready on the other nodes (or the wait ends). */
  async #waitPlacedElsewhere(): Promise<void> {
    const { pool, membership, placed, placedWithinMs } = this.#o;
    if (placed.length === 0) return;
    const until = Date.now() + placedWithinMs;
    for (;;) {
      const others = membership.nodes
        .filter((n) => n.name !== membership.node && !n.drain && (n.state === "up" || n.state === "suspect"))
        .map((n) => n.name);
      const ready = await readReadyCounts(pool, others);
      const short = placed
        .map((c) => ({ ...c, ready: readyOutside(ready, c.name, [membership.node]) }))
        .filter((c) => c.ready < c.replicas);
      if (short.length === 0) return;
      const what = short.map((c) => `${c.name} ${c.ready}/${c.replicas} ready on the other nodes`).join(", ");
      if (Date.now() > until) {
        await this.#say("draining", `stopping anyway after ${formatMs(placedWithinMs)}: ${what}`);
        return;
      }
      await this.#say("draining", `waiting for replicas placed elsewhere: ${what}`);
      await sleep(membership.heartbeatMs);
    }
  }

  async #undrain(components: string[]): Promise<void> {
    const { pool, membership } = this.#o;
    const t0 = Date.now();
    if (components.length > 0) {
      await this.#say("undraining", `starting ${components.join(", ")}`);
      const r = await this.#host!.run("start", components);
      if (!r.ok) {
        const why = r.components
          .filter((c) => !c.ok)
          .map((c) => `${c.name}: ${c.error ?? "failed"}`)
          .join("; ");
        await this.#say(
          "undraining",
          `failed: ${why}; still out of routing — see the daemon log, then undrain again`,
        );
        return;
      }
    }
    await pool.query(UNDRAINED, [membership.node]);
    this.#o.log(
      "info",
      `cluster: ${membership.node} undrained${components.length ? ` (started ${components.join(", ")} in ${formatMs(Date.now() - t0)})` : ""}`,
    );
  }
}
