/**
 * @module cluster/patch-drive
 * The primary's extra part in a `patch` operation, each pass before it releases steps (fenced):
 * steps of nodes marked for resync end `abandoned` (skipped), and the abandon rule
 * (cluster/abandon) is applied to nodes that went down or failed, and a `together` cutover's
 * commit point is taken. Returns rows changed.
 */
import type pg from "pg";
import { decideAbandon, type StepRow } from "./abandon.js";
import type { Membership } from "./membership.js";
import type { PatchOperationArgs } from "./operation-types.js";
import { ABANDON, DECIDE, FAIL_STEP, RESYNC_NODES, SELECT_COMMIT, SKIP_RESYNC, VOTES } from "./patch-sql.js";
import { readReadyCounts } from "./ready-counts.js";
import { STEPS_OF } from "./operations-sql.js";

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
  const together = op.args?.phase === "cutover" && op.args.strategy === "together";
  const decided = together ? (await pool.query(SELECT_COMMIT, [op.id])).rows.length > 0 : true;
  const waiting = decided ? [] : (await pool.query<{ node: string }>(VOTES, [op.id])).rows.map((r) => r.node);
  const readSteps = async (): Promise<(StepRow & { outcome: string | null })[]> =>
    (await pool.query<StepRow & { outcome: string | null }>(STEPS_OF, [op.id])).rows;
  const steps = await readSteps();
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
    waiting,
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
  if (!decided) changed += await commitPoint(p, decisions.length > 0 ? await readSteps() : steps, waiting);
  return changed;
}

/**
 * A `together` cutover's commit point, taken once (fenced): `switch` when every node still in the
 * operation waits there with its new replicas ready; `rollback` as soon as one failed before it.
 */
async function commitPoint(
  p: PatchDriveParts,
  steps: readonly (StepRow & { outcome: string | null })[],
  waiting: readonly string[],
): Promise<number> {
  const counted = steps.filter((s) => s.state !== "abandoned");
  const failed = counted.find((s) => s.state === "failed" || s.state === "skipped");
  let decision: [string, string] | undefined;
  if (failed)
    decision = [
      "rollback",
      `${failed.node}'s cutover did not reach the commit point (${failed.outcome ?? failed.state}); every node rolls back`,
    ];
  else if (counted.length > 0 && counted.every((s) => waiting.includes(s.node)))
    decision = [
      "switch",
      `every node's new replicas are ready (${counted
        .map((s) => s.node)
        .sort()
        .join(", ")})`,
    ];
  if (!decision) return 0;
  const r = await p.pool.query(DECIDE, [...p.fence, ...decision]);
  if ((r.rowCount ?? 0) === 0) return 0;
  p.membership.fencedWrite("operations", "accepted");
  p.log("info", `cluster: patch cutover (together): commit point: ${decision[0]} — ${decision[1]}`);
  return 1;
}
