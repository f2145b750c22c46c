/**
 * @module cluster/placement-store
 * Reading the placement table, and the primary's fenced write of a new one: one transaction that
 * locks the node rows, checks the lease (holder, epoch, unexpired, share-locked until commit),
 * plans again from the ages read under the lock, and writes only what changed.
 */
import type pg from "pg";
import {
  FENCE_CHECK,
  LOCK_NODES,
  SELECT_PLACEMENTS,
  SELECT_PLAN_NODES,
  UPSERT_PLACEMENT,
} from "./placement-sql.js";
import type { DrainState } from "./drain-sql.js";
import {
  planPlacement,
  samePlacement,
  type Assignment,
  type PlacedComponent,
  type PlanNode,
} from "./placement-plan.js";
import type { NodeState } from "./types.js";

export async function readPlacement(db: pg.ClientBase | pg.Pool): Promise<Assignment> {
  const { rows } = await db.query<{ component: string; node: string; replicas: number }>(SELECT_PLACEMENTS);
  const out: Assignment = new Map();
  for (const r of rows) {
    const m = out.get(r.component) ?? new Map<string, number>();
    m.set(r.node, r.replicas);
    out.set(r.component, m);
  }
  return out;
}

/** `accepted`: the table now holds the plan; `rejected`: the fence refused (not primary at `epoch`). */
export type PlacementWrite = "accepted" | "rejected" | "unchanged";

export async function writePlacement(
  client: pg.ClientBase,
  me: string,
  epoch: number,
  components: PlacedComponent[],
): Promise<PlacementWrite> {
  await client.query("BEGIN");
  try {
    await client.query(LOCK_NODES);
    const fence = await client.query(FENCE_CHECK, [me, epoch]);
    if (fence.rowCount !== 1) {
      await client.query("ROLLBACK");
      return "rejected";
    }
    const nodes = (
      await client.query<{
        name: string;
        state: NodeState;
        age_ms: number;
        heartbeat_ms: number;
        allowed_misses: number;
        drain: DrainState | null;
      }>(SELECT_PLAN_NODES)
    ).rows.map((r): PlanNode => ({
      name: r.name,
      state: r.state,
      ageMs: Number(r.age_ms),
      heartbeatMs: r.heartbeat_ms,
      allowedMisses: r.allowed_misses,
      drain: r.drain,
    }));
    const current = await readPlacement(client);
    const next = planPlacement(components, nodes, current);
    if (samePlacement(current, next)) {
      await client.query("ROLLBACK");
      return "unchanged";
    }
    const cs: string[] = [];
    const ns: string[] = [];
    const ks: number[] = [];
    for (const [c, rows] of next)
      for (const [n, k] of rows) {
        cs.push(c);
        ns.push(n);
        ks.push(k);
      }
    await client.query(UPSERT_PLACEMENT, [cs, ns, ks, epoch]);
    await client.query("COMMIT");
    return "accepted";
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
