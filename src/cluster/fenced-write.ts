/**
 * @module cluster/fenced-write
 * The three outcomes of a write the primary makes through the fence: **accepted** (it changed
 * rows, so the fence held), **rejected** (the fence did not hold: another holder, another epoch,
 * or the lease expired) and **unchanged** (the fence held, there was nothing to change). A fenced
 * `UPDATE` alone cannot tell the last two apart — it changes 0 rows either way — so
 * `withOutcome()` wraps it to read the fence in the same statement.
 */

/** Who wrote: the primary's record (cluster/membership), placement, cluster operations. */
export type FencedWriter = "record" | "placement" | "operations";

export type FencedOutcome = "accepted" | "rejected" | "unchanged";

/** The fence as in cluster-sql and operations-sql: `$1` holder, `$2` epoch. */
const FENCE_HELD = `EXISTS (SELECT 1 FROM steward_cluster.primary_lease
  WHERE id = 1 AND holder = $1::text AND epoch = $2::bigint AND expires_at > clock_timestamp())`;

/**
 * A fenced `UPDATE` (whose fence takes `$1` holder and `$2` epoch, and which has no `RETURNING`)
 * as one statement answering `{ changed, held }`.
 * @example withOutcome(FINISH) // SELECT … AS changed, EXISTS (…) AS held
 */
export function withOutcome(update: string): string {
  return `WITH w AS (${update}
RETURNING 1)
SELECT (SELECT count(*) FROM w)::int AS changed, ${FENCE_HELD} AS held`;
}

export function outcomeOf(row: { changed: number; held: boolean } | undefined): FencedOutcome {
  if (row === undefined || (row.changed === 0 && !row.held)) return "rejected";
  return row.changed > 0 ? "accepted" : "unchanged";
}
