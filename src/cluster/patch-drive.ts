/**
 * @module cluster/patch-drive
 * The primary's extra part in a `patch` operation, each pass before it releases steps (fenced):
 * steps of nodes marked for resync end `abandoned` (skipped), and the abandon rule
 * (cluster/abandon) is applied to nodes that went down or failed. Returns rows changed.
 */
import type pg from "pg";
import { decideAbandon, type StepRow } from "./abandon.js";
import type { Membership } from "./membership.js";
import type { PatchOperationArgs } from "./operation-types.js";
import { ABANDON, FAIL_STEP, RESYNC_NODES, SKIP_RESYNC } from "./patch-sql.js";
import { readReadyCounts } from "./ready-counts.js";

export interface PatchDriveParts {
  pool: pg.Pool;
  /** The engine's fenced update (counted in the membership status); returns rows changed. */
  fenced: (update: string, params: unknown[]) => Promise<number>;
  /** `$1` holder, `$2` epoch, `$3` operation. */
  fence: unknown[];
  op: { id: string; args: PatchOperationArgs | null };
  membership: Membership;
  minAvailable: ReadonlyMap<string, number>;
  log: (level: "info" | "warn", message: string) => void;
}

export async function drivePatchRules(p: PatchDriveParts): Promise<number> {
  const { pool, fenced, fence, op, membership, minAvailable, log } = p;
  let changed = await fenced(SKIP_RESYNC, fence);
  const { rows: steps } = await pool.query<StepRow>(
    "SELECT node, state FROM steward_cluster.operation_steps WHERE operation_id = $1 ORDER BY seq",
    [op.id],
  );
  const resync = (await pool.query<{ node: string }>(RESYNC_NODES)).rows.map((r) => r.node);
  const nodes = new Map(membership.nodes.map((n) => [n.name, { state: n.state, ageMs: n.ageMs }]));
  const counted = membership.nodes
    .filter((n) => n.state === "up" || n.state === "suspect")
    .map((n) => n.name);
  const phase = op.args?.phase ?? "?";
  const decisions = decideAbandon({
    steps,
    nodes,
    resync,
    allowed: op.args?.abandon !== false,
    minAvailable,
    ready: await readReadyCounts(pool, counted),
    phase,
  });
  for (const d of decisions) {
    if (d.action === "abandon") {
      const r = await pool.query<{ abandoned: number }>(ABANDON, [...fence, d.node, d.outcome, phase]);
      if (r.rows[0]?.abandoned === 1) {
        membership.fencedWrite("operations", "accepted");
        changed += 1;
        log("warn", `cluster: patch ${phase}: ${d.node} ${d.outcome}`);
      }
    } else {
      const n = await fenced(FAIL_STEP, [...fence, d.node, d.outcome]);
      if (n > 0) log("warn", `cluster: patch ${phase}: ${d.outcome}`);
      changed += n;
    }
  }
  return changed;
}
