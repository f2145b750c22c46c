/**
 * @module cluster/operations-sql
 * Cluster operations' journal (`start|stop|restart --cluster`), in schema `steward_cluster`:
 * one `operations` row per operation, one `operation_steps` row per node. Who writes what:
 *
 * - any node **asks**: it inserts the operation as `requested` (a request, not a cluster decision);
 * - the **primary** decides, fenced on its epoch: it takes a request (`running`, one step per
 *   node: `waiting`, or `skipped` for a node that is down), releases steps (all at once for
 *   start/stop; for restart `max_unavailable` nodes at a time, each only past the rolling gate of
 *   cluster/rolling-gate, and none after a step failed), skips the waiting step of a node that
 *   is down when its turn comes, and finishes the operation once every step has ended;
 * - each **node** runs its own released steps: `running` under its daemon session, then `done` or
 *   `failed` with the outcome. A step `running` under an older session (the daemon died) is run
 *   again by the node's next daemon.
 *
 * Every change is followed by `NOTIFY steward_cluster_ops`; nodes also poll each heartbeat.
 */

export const OPERATIONS_MIGRATION = {
  version: 2,
  name: "operations",
  sql: `
CREATE TABLE steward_cluster.operations (
  id              TEXT PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('start', 'stop', 'restart')),
  components      JSONB NOT NULL,
  asked_by        TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('requested', 'running', 'done', 'failed')),
  epoch           BIGINT,
  driver          TEXT,
  max_unavailable INTEGER,
  asked_at        TIMESTAMPTZ NOT NULL,
  started_at      TIMESTAMPTZ,
  finished_at     TIMESTAMPTZ
);
CREATE INDEX operations_open ON steward_cluster.operations (asked_at) WHERE state IN ('requested', 'running');
CREATE TABLE steward_cluster.operation_steps (
  operation_id TEXT NOT NULL REFERENCES steward_cluster.operations (id),
  node         TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('waiting', 'released', 'running', 'done', 'failed', 'skipped')),
  session      TEXT,
  runs         INTEGER NOT NULL DEFAULT 0,
  outcome      TEXT,
  started_at   TIMESTAMPTZ,
  finished_at  TIMESTAMPTZ,
  PRIMARY KEY (operation_id, node)
);
CREATE INDEX operation_steps_open ON steward_cluster.operation_steps (node) WHERE state IN ('released', 'running');
`,
};

export const OPS_CHANNEL = "steward_cluster_ops";

/** A node asks: `$1` id, `$2` kind, `$3` components (JSON), `$4` node, `$5` args (JSON, a patch's phase). */
export const ASK = `INSERT INTO steward_cluster.operations (id, kind, components, asked_by, state, asked_at, args)
VALUES ($1, $2, $3::jsonb, $4, 'requested', clock_timestamp(), $5::jsonb)`;

/** The fence (as in cluster-sql): `$1` holder, `$2` epoch. */
const FENCE = `EXISTS (SELECT 1 FROM steward_cluster.primary_lease
  WHERE id = 1 AND holder = $1::text AND epoch = $2::bigint AND expires_at > clock_timestamp() FOR SHARE)`;

/**
 * Fenced: takes request `$3` with `$4` max_unavailable. Steps for every node not `left`, in name
 * order with the primary itself last (it drives while the others restart); a `down` node's step is
 * `skipped` with the reason.
 */
export const CREATE = `
WITH op AS (
  UPDATE steward_cluster.operations SET state = 'running', epoch = $2, driver = $1, max_unavailable = $4,
    started_at = clock_timestamp()
  WHERE id = $3 AND state = 'requested' AND ${FENCE}
  RETURNING id
), steps AS (
  INSERT INTO steward_cluster.operation_steps (operation_id, node, seq, state, outcome, finished_at)
  SELECT op.id, v.name,
    row_number() OVER (ORDER BY v.name = $1, v.name COLLATE "C"),
    CASE WHEN v.derived_state = 'down' THEN 'skipped' ELSE 'waiting' END,
    CASE WHEN v.derived_state = 'down'
      THEN format('node %s was down when the operation began (last heartbeat %s ms ago)', v.name, v.age_ms) END,
    CASE WHEN v.derived_state = 'down' THEN clock_timestamp() END
  FROM op CROSS JOIN steward_cluster.node_view v WHERE v.derived_state <> 'left'
  RETURNING 1
)
SELECT (SELECT count(*) FROM op)::int AS created, (SELECT count(*) FROM steps)::int AS steps`;

/**
 * Fenced: a step that would never run is skipped — the waiting step of a node that is down now,
 * and the waiting or released (not yet claimed) step of a node that has left. `$3` operation.
 */
export const SKIP_DOWN = `
UPDATE steward_cluster.operation_steps s SET state = 'skipped', finished_at = clock_timestamp(),
  outcome = CASE WHEN v.derived_state = 'left' THEN format('node %s left the cluster', v.name)
    ELSE format('node %s was down when its turn came (last heartbeat %s ms ago)', v.name, v.age_ms) END
FROM steward_cluster.node_view v
WHERE s.operation_id = $3 AND v.name = s.node
  AND ((s.state = 'waiting' AND v.derived_state = 'down')
    OR (s.state IN ('waiting', 'released') AND v.derived_state = 'left'))
  AND ${FENCE}`;

/**
 * Fenced: up to `$4` steps released in order, counting those already released or running
 * (start/stop pass the number of nodes: all at once). `$3` operation.
 */
export const RELEASE = `
UPDATE steward_cluster.operation_steps SET state = 'released'
WHERE operation_id = $3 AND node IN (
  SELECT node FROM steward_cluster.operation_steps WHERE operation_id = $3 AND state = 'waiting'
  ORDER BY seq
  LIMIT greatest(0, $4::int - (SELECT count(*) FROM steward_cluster.operation_steps
                               WHERE operation_id = $3 AND state IN ('released', 'running'))))
  AND ${FENCE}`;

/** A restart's steps in order, for the primary's rolling gate. `$1` operation. */
export const STEPS_OF = `
SELECT node, state, outcome FROM steward_cluster.operation_steps WHERE operation_id = $1 ORDER BY seq`;

/** Fenced: releases the waiting step of node `$4` (a restart's next node, past the rolling gate). `$3` operation. */
export const RELEASE_NODE = `
UPDATE steward_cluster.operation_steps SET state = 'released', outcome = NULL
WHERE operation_id = $3 AND node = $4 AND state = 'waiting' AND ${FENCE}`;

/** Fenced: says on a waiting step why it waits (`$5`), when that changed. `$3` operation, `$4` node. */
export const NOTE_WAITING = `
UPDATE steward_cluster.operation_steps SET outcome = $5
WHERE operation_id = $3 AND node = $4 AND state = 'waiting' AND outcome IS DISTINCT FROM $5 AND ${FENCE}`;

/**
 * Fenced: a restart halts at its first failed step — the waiting steps are skipped with `$4` as
 * the reason, so the nodes not yet restarted keep serving as they are. `$3` operation.
 */
export const HALT = `
UPDATE steward_cluster.operation_steps SET state = 'skipped', outcome = $4, finished_at = clock_timestamp()
WHERE operation_id = $3 AND state = 'waiting' AND ${FENCE}`;

/**
 * Fenced: once no step is open, the operation ends `failed` if one failed, else `done`; `driver`
 * and `epoch` then name the primary that finished it (another than the one that took it after a failover).
 */
export const FINISH = `
UPDATE steward_cluster.operations o SET finished_at = clock_timestamp(), driver = $1, epoch = $2,
  state = CASE WHEN EXISTS (SELECT 1 FROM steward_cluster.operation_steps
                            WHERE operation_id = o.id AND state = 'failed') THEN 'failed' ELSE 'done' END
WHERE o.id = $3 AND o.state = 'running'
  AND NOT EXISTS (SELECT 1 FROM steward_cluster.operation_steps
                  WHERE operation_id = o.id AND state IN ('waiting', 'released', 'running'))
  AND ${FENCE}`;

/**
 * A pass's one read: the open operations, oldest first (for the primary to drive), and this
 * node's steps to run — released, or running under an older session of it. `$1` node, `$2` session.
 */
export const PASS_READ = `
SELECT
  coalesce((SELECT json_agg(json_build_object('id', id, 'kind', kind, 'state', state,
     'maxUnavailable', max_unavailable, 'components', components, 'args', args) ORDER BY asked_at, id)
   FROM steward_cluster.operations WHERE state IN ('requested', 'running')), '[]'::json) AS open,
  coalesce((SELECT json_agg(json_build_object('id', s.operation_id, 'kind', o.kind,
     'components', o.components, 'args', o.args) ORDER BY o.asked_at, o.id)
   FROM steward_cluster.operation_steps s JOIN steward_cluster.operations o ON o.id = s.operation_id
   WHERE s.node = $1 AND (s.state = 'released' OR (s.state = 'running' AND s.session IS DISTINCT FROM $2))),
   '[]'::json) AS mine`;

/** Claims a step for this session; 1 row when claimed. `$1` operation, `$2` node, `$3` session. */
export const CLAIM = `
UPDATE steward_cluster.operation_steps SET state = 'running', session = $3, runs = runs + 1,
  started_at = clock_timestamp(), outcome = NULL
WHERE operation_id = $1 AND node = $2
  AND (state = 'released' OR (state = 'running' AND session IS DISTINCT FROM $3))
RETURNING runs`;

/** Ends a step this session runs. `$4` done|failed, `$5` outcome. */
export const END_STEP = `
UPDATE steward_cluster.operation_steps SET state = $4, outcome = $5, finished_at = clock_timestamp()
WHERE operation_id = $1 AND node = $2 AND session = $3 AND state = 'running'`;

/** An operation and its steps, for the node that follows it for the CLI. `$1` id. */
export const SELECT_OPERATION = `
SELECT o.id, o.kind, o.components, o.args, o.state, o.driver, o.epoch,
  coalesce((SELECT json_agg(json_build_object('node', s.node, 'state', s.state, 'outcome', s.outcome,
     'runs', s.runs) ORDER BY s.seq) FROM steward_cluster.operation_steps s WHERE s.operation_id = o.id),
     '[]'::json) AS steps
FROM steward_cluster.operations o WHERE o.id = $1`;
