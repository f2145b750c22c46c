/**
 * @module cluster/placement-sql
 * The placement table (cluster migration 3) and its statements: for each `nodes: any` component,
 * how many replicas each node runs. Only the primary writes it, in one transaction fenced on its
 * epoch (`writePlacement`); every node reads its rows after each heartbeat.
 */

import { drainOf } from "./drain-sql.js";

export const PLACEMENT_MIGRATION = {
  version: 3,
  name: "placement",
  sql: `
CREATE TABLE steward_cluster.placements (
  component  TEXT NOT NULL,
  node       TEXT NOT NULL,
  replicas   INTEGER NOT NULL CHECK (replicas >= 0),
  epoch      BIGINT NOT NULL,
  written_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (component, node)
);
`,
} as const;

export const SELECT_PLACEMENTS = `SELECT component, node, replicas FROM steward_cluster.placements`;

/**
 * Locks every node row (heartbeats wait the few ms this transaction lasts), so a node's heartbeat
 * either commits before the ages below are read, or after this transaction — when the node then
 * reads the new table. Same lock order as a heartbeat: nodes, then the lease.
 */
export const LOCK_NODES = `SELECT name FROM steward_cluster.nodes ORDER BY name FOR UPDATE`;

/** The fence, inside the transaction: the lease row share-locked until commit. */
export const FENCE_CHECK = `SELECT 1 FROM steward_cluster.primary_lease
WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp() FOR SHARE`;

export const SELECT_PLAN_NODES = `SELECT name, derived_state AS state, age_ms, heartbeat_ms, allowed_misses,
  ${drainOf("v")} AS drain
FROM steward_cluster.node_view v`;

export const UPSERT_PLACEMENT = `
INSERT INTO steward_cluster.placements (component, node, replicas, epoch, written_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS r(c, n, k), LATERAL (SELECT $4::bigint, clock_timestamp()) x
ON CONFLICT (component, node) DO UPDATE SET replicas = EXCLUDED.replicas, epoch = EXCLUDED.epoch,
  written_at = EXCLUDED.written_at
WHERE steward_cluster.placements.replicas <> EXCLUDED.replicas`;
