/**
 * @module daemon/node-resync
 * A node the patch cycle abandoned (cluster/abandon) catches up by itself, after each heartbeat
 * that shows it marked `resync`, once its daemon is active:
 *
 * - the cluster has not cut over yet: nothing to do — it still runs the cluster's run edition (its
 *   later phases are skipped); a cycle the cluster aborted: it aborts its own session, and the mark goes;
 * - the cluster has cut over: it says `syncing` (other edges leave it out from their next
 *   heartbeat), aborts its own half-done session, then runs the cycle alone — prepare, every patch
 *   the cluster applied (read from the store, checksummed), finalize, its own zero-error cutover —
 *   and deletes the mark, so other edges route to it again, on the new edition.
 *
 * A step that fails leaves the mark with the reason; the node tries again at its next boot.
 */
import type pg from "pg";
import type { Membership } from "../cluster/membership.js";
import type { PatchOperationArgs } from "../cluster/operation-types.js";
import { CYCLE_OPERATIONS, RESYNC_PROGRESS, RESYNCED, SELECT_RESYNC } from "../cluster/patch-sql.js";
import { formatMs } from "../process/duration.js";
import type { PatchBlobRef } from "../cluster/patch-blobs.js";
import { appliedIn } from "./patch-step.js";
import { isOpen } from "../patching/phase-order.js";
import type { DaemonPatching } from "./patch-wiring.js";

type Runner = (args: PatchOperationArgs) => Promise<{ ok: boolean; outcome: string }>;

export interface NodeResyncParts {
  pool: pg.Pool;
  membership: Membership;
  patching: DaemonPatching | undefined;
  /** This node's patch phase runner (daemon/patch-step). */
  run: Runner;
  ready: () => boolean;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

interface CycleOperation {
  id: string;
  state: string;
  args: PatchOperationArgs | null;
  done: number;
}

export class NodeResync {
  readonly #p: NodeResyncParts;
  #busy = false;
  /** After a failed catch-up: not tried again until the next boot. */
  #gaveUp = false;
  #unsubscribe: () => void = () => undefined;

  constructor(parts: NodeResyncParts) {
    this.#p = parts;
  }

  start(): void {
    this.#unsubscribe = this.#p.membership.onBeat(() => this.#onBeat());
  }

  close(): void {
    this.#unsubscribe();
  }

  #onBeat(): void {
    const m = this.#p.membership;
    const me = m.nodes.find((n) => n.name === m.node);
    if (!me?.resync || this.#busy || this.#gaveUp || !this.#p.ready()) return;
    this.#busy = true;
    void this.#work()
      .catch((err: unknown) => this.#p.log("warn", `cluster: resync of this node: ${(err as Error).message}`))
      .finally(() => (this.#busy = false));
  }

  async #say(state: "waiting" | "syncing", progress: string): Promise<void> {
    this.#p.log("info", `cluster: resync ${this.#p.membership.node}: ${progress}`);
    await this.#p.pool.query(RESYNC_PROGRESS, [this.#p.membership.node, state, progress]);
  }

  async #work(): Promise<void> {
    const { pool, membership, patching } = this.#p;
    const node = membership.node;
    const mark = (await pool.query<{ state: string; progress: string | null }>(SELECT_RESYNC, [node]))
      .rows[0];
    if (!mark || !patching) return;
    const ops = (await pool.query<CycleOperation>(CYCLE_OPERATIONS, [node])).rows;
    const finished = (o: CycleOperation): boolean => o.state === "done" || o.state === "failed";
    const cutover = ops.filter((o) => o.args?.phase === "cutover" && o.done > 0 && finished(o)).at(-1);
    const aborted = ops.filter((o) => o.args?.phase === "abort" && o.done > 0).at(-1);
    const open = async (): Promise<boolean> => {
      const s = (await patching.sessions.list(1))[0];
      return s !== undefined && isOpen(s);
    };
    if (!cutover) {
      if (aborted && finished(aborted)) {
        if (await open()) await this.#step({ phase: "abort", body: {} });
        await pool.query(RESYNCED, [node]);
        this.#p.log(
          "info",
          `cluster: resync ${node}: the cluster aborted the cycle; this node's session is aborted too`,
        );
        return;
      }
      const waiting =
        "waiting for the cluster's cutover: this node runs the cluster's run edition until then";
      if (mark.progress !== waiting) await this.#say("waiting", waiting);
      return;
    }
    // Cut over already (its own cutover finished after its daemon came back): nothing to catch up.
    const applies = ops.filter((o) => o.args?.phase === "apply" && o.done > 0 && o.args);
    const refs = applies.flatMap((a) => (a.args!.body.blobs as PatchBlobRef[] | undefined) ?? []);
    const newest = (await patching.sessions.list(1))[0];
    if (newest?.status === "completed" && refs.length > 0 && (await appliedIn(patching, refs, newest.id))) {
      await pool.query(RESYNCED, [node]);
      this.#p.log(
        "info",
        `cluster: resync ${node}: already on the cluster's run edition (session ${newest.id})`,
      );
      return;
    }
    const t0 = Date.now();
    await this.#say("syncing", "out of routing; bringing this node to the cluster's run edition");
    // Other edges leave this node out at their next heartbeat: give them that before anything moves.
    await new Promise((r) => setTimeout(r, membership.heartbeatMs * 2));
    try {
      if (await open()) await this.#step({ phase: "abort", body: {} });
      const prepare = ops.filter((o) => o.args?.phase === "prepare" && o.done > 0).at(-1);
      await this.#step({ phase: "prepare", body: prepare?.args?.body ?? {} });
      for (const a of applies) await this.#step(a.args!);
      await this.#step({ phase: "finalize", body: {} });
      const { strategy: _s, ...cut } = cutover.args!;
      await this.#step({ ...cut, body: { ...cut.body } });
    } catch (err) {
      this.#gaveUp = true;
      await this.#say(
        "syncing",
        `failed: ${(err as Error).message}; still out of routing — fix it, then restart this node's daemon to try again`,
      );
      return;
    }
    await pool.query(RESYNCED, [node]);
    this.#p.log(
      "info",
      `cluster: resync ${node}: on the cluster's run edition in ${formatMs(Date.now() - t0)}; routed again from the other nodes' next heartbeat`,
    );
  }

  async #step(args: PatchOperationArgs): Promise<void> {
    await this.#say("syncing", `patch ${args.phase}`);
    const r = await this.#p.run(args);
    if (!r.ok) throw new Error(`patch ${args.phase}: ${r.outcome}`);
  }
}
