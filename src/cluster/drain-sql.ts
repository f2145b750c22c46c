/**
 * @module cluster/drain-sql
 * Node drains (`steward cluster drain|undrain NODE`, cluster migration 5): one row per node taken
 * out, in schema `steward_cluster`. Who writes what:
 *
 * - any node **asks**: it inserts the row as `draining` (or turns `drained` into `undraining`);
 * - the **drained node** does the work and says how far it got (`progress`): it records what it
 *   runs (`components`, so an undrain starts exactly that again), stops it through the stop
 *   budgets, and marks itself `drained`; asked to undrain, it starts that again and deletes the row;
 * - every **edge** leaves out the replicas of a node with a row, and the **primary**'s placement
 *   puts no new `nodes: any` replica there (cluster/placement-plan).
 *
 * Not fenced: none of these is the primary's decision. Each change is followed by a NOTIFY on the
 * operations' channel, and every node also reads the rows with each heartbeat.
 */

export type DrainState = "draining" | "drained" | "undraining";

export const DRAIN_MIGRATION = {
  version: 5,
  name: "node drains",
  sql: `
CREATE TABLE steward_cluster.node_drains (
  node       TEXT PRIMARY KEY,
  state      TEXT NOT NULL CHECK (state IN ('draining', 'drained', 'undraining')),
  components JSONB,
  asked_by   TEXT NOT NULL,
  asked_at   TIMESTAMPTZ NOT NULL,
  progress   TEXT,
  changed_at TIMESTAMPTZ NOT NULL
);
`,
} as const;

/** The drain state of the node named by `alias`.name, or null: for the node lists every reader takes. */
export const drainOf = (alias: string): string =>
  `(SELECT d.state FROM steward_cluster.node_drains d WHERE d.node = ${alias}.name)`;

/** Asks to drain `$1` (by `$2`); a row already there is left alone, except a drain that failed is asked again. */
export const ASK_DRAIN = `
WITH ins AS (
  INSERT INTO steward_cluster.node_drains (node, state, asked_by, asked_at, progress, changed_at)
  VALUES ($1, 'draining', $2, clock_timestamp(), 'asked', clock_timestamp())
  ON CONFLICT (node) DO UPDATE SET asked_by = EXCLUDED.asked_by, asked_at = EXCLUDED.asked_at,
    progress = 'asked again', changed_at = EXCLUDED.changed_at
  WHERE steward_cluster.node_drains.state = 'draining' AND steward_cluster.node_drains.progress LIKE 'failed:%'
  RETURNING state
)
SELECT (SELECT count(*) FROM ins)::int AS asked,
  coalesce((SELECT state FROM ins), (SELECT state FROM steward_cluster.node_drains WHERE node = $1)) AS state`;

/** Asks to undrain `$1` (by `$2`): the node starts what the drain stopped (again, after a failed undrain). */
export const ASK_UNDRAIN = `
UPDATE steward_cluster.node_drains SET state = 'undraining', asked_by = $2, asked_at = clock_timestamp(),
  progress = 'asked', changed_at = clock_timestamp()
WHERE node = $1 AND state IN ('draining', 'drained', 'undraining')
RETURNING state`;

/** The drain row of node `$1`, if any. */
export const SELECT_DRAIN = `
SELECT node, state, components, asked_by, progress, asked_at::text AS asked_at
FROM steward_cluster.node_drains WHERE node = $1`;

/** The drained node says how far it got (`$3`), while the row is still in state `$2`. */
export const DRAIN_PROGRESS = `
UPDATE steward_cluster.node_drains SET progress = $3, changed_at = clock_timestamp()
WHERE node = $1 AND state = $2`;

/** The drained node records what it ran before the drain (`$2`, JSON) — once: a resumed drain keeps the first list. */
export const DRAIN_COMPONENTS = `
UPDATE steward_cluster.node_drains SET components = coalesce(components, $2::jsonb), changed_at = clock_timestamp()
WHERE node = $1 AND state = 'draining'
RETURNING components`;

/** The drained node is done: `drained` (only if nobody asked to undrain meanwhile). */
export const DRAINED = `
UPDATE steward_cluster.node_drains SET state = 'drained', progress = $2, changed_at = clock_timestamp()
WHERE node = $1 AND state = 'draining'`;

/** The undrained node is back: the row goes. */
export const UNDRAINED = `DELETE FROM steward_cluster.node_drains WHERE node = $1 AND state = 'undraining'`;
