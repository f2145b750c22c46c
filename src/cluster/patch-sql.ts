/**
 * @module cluster/patch-sql
 * The patch cycle on every node (cluster migration 6): a cluster operation of kind `patch` carries
 * its phase and options in `args`, and the patches themselves travel through the store as
 * **blobs** — content-addressed by SHA-256, cut in chunks of 1 MiB so no statement holds a whole
 * archive — so no node needs a shared file system or ssh. Each node checks the checksum of what it
 * read before using it.
 *
 * The **abandon rule**: a node that fails or goes down during a phase, while other nodes did it, is
 * `abandoned` by the primary (fenced) when the rest keep every `min_available` and the operation
 * allows it (`--abandon yes`, the default): its step ends `abandoned`, and a `node_resyncs` row
 * marks the node. Later patch phases skip it (also `abandoned`), other edges leave its replicas
 * out, and once the cluster has cut over the node catches up by itself (daemon/node-resync) —
 * abort, prepare, the cycle's patches, finalize, cutover of that node alone — and deletes the row.
 */

export const PATCH_MIGRATION = {
  version: 6,
  name: "patch cycle on every node",
  sql: `
ALTER TABLE steward_cluster.operations DROP CONSTRAINT operations_kind_check;
ALTER TABLE steward_cluster.operations ADD CONSTRAINT operations_kind_check
  CHECK (kind IN ('start', 'stop', 'restart', 'patch'));
ALTER TABLE steward_cluster.operations ADD COLUMN args JSONB;
ALTER TABLE steward_cluster.operation_steps DROP CONSTRAINT operation_steps_state_check;
ALTER TABLE steward_cluster.operation_steps ADD CONSTRAINT operation_steps_state_check
  CHECK (state IN ('waiting', 'released', 'running', 'done', 'failed', 'skipped', 'abandoned'));
CREATE TABLE steward_cluster.cutover_votes (
  operation_id TEXT NOT NULL,
  node         TEXT NOT NULL,
  at           TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (operation_id, node)
);
CREATE TABLE steward_cluster.cutover_commits (
  operation_id TEXT PRIMARY KEY,
  decision     TEXT NOT NULL CHECK (decision IN ('switch', 'rollback')),
  reason       TEXT NOT NULL,
  driver       TEXT NOT NULL,
  epoch        BIGINT NOT NULL,
  decided_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE steward_cluster.node_resyncs (
  node         TEXT PRIMARY KEY,
  operation_id TEXT NOT NULL,
  phase        TEXT NOT NULL,
  reason       TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('waiting', 'syncing')),
  progress     TEXT,
  since        TIMESTAMPTZ NOT NULL,
  changed_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE steward_cluster.patch_blobs (
  sha256    TEXT PRIMARY KEY,
  name      TEXT NOT NULL,
  size      BIGINT NOT NULL,
  chunks    INTEGER NOT NULL,
  stored_by TEXT NOT NULL,
  stored_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE steward_cluster.patch_blob_chunks (
  sha256 TEXT NOT NULL, -- no foreign key: the chunks go in first, the blob row last
  seq    INTEGER NOT NULL,
  bytes  BYTEA NOT NULL,
  PRIMARY KEY (sha256, seq)
);
`,
} as const;

/** Whether the node named by `alias`.name is marked for resync: for the node lists every reader takes. */
export const resyncOf = (alias: string): string =>
  `EXISTS (SELECT 1 FROM steward_cluster.node_resyncs r WHERE r.node = ${alias}.name)`;

/** Bytes per chunk. */
export const CHUNK_BYTES = 1024 * 1024;

/** Whether blob `$1` is stored whole (its row is written last, after every chunk). */
export const BLOB_STORED = `SELECT name, size, chunks FROM steward_cluster.patch_blobs WHERE sha256 = $1`;

/** One chunk: `$1` sha256, `$2` seq, `$3` bytes. A chunk left by an interrupted upload is replaced. */
export const PUT_CHUNK = `
INSERT INTO steward_cluster.patch_blob_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)
ON CONFLICT (sha256, seq) DO UPDATE SET bytes = EXCLUDED.bytes`;

/** The blob's row, once every chunk is in: `$1` sha256, `$2` name, `$3` size, `$4` chunks, `$5` node. */
export const PUT_BLOB = `
INSERT INTO steward_cluster.patch_blobs (sha256, name, size, chunks, stored_by, stored_at)
VALUES ($1, $2, $3, $4, $5, clock_timestamp()) ON CONFLICT (sha256) DO NOTHING`;

/** Chunk `$2` of blob `$1`. */
export const GET_CHUNK = `SELECT bytes FROM steward_cluster.patch_blob_chunks WHERE sha256 = $1 AND seq = $2`;

/** Chunks stored before the blob row (an upload cut short): `$1` sha256. */
export const DROP_ORPHAN_CHUNKS = `
DELETE FROM steward_cluster.patch_blob_chunks c WHERE c.sha256 = $1
  AND NOT EXISTS (SELECT 1 FROM steward_cluster.patch_blobs b WHERE b.sha256 = c.sha256)`;

/** The newest patch operation, with each node's step: the next phase may start only once it is done everywhere. */
export const LATEST_PATCH_OPERATION = `
SELECT o.id, o.state, o.args->>'phase' AS phase,
  coalesce((SELECT json_agg(json_build_object('node', s.node, 'state', s.state, 'outcome', s.outcome) ORDER BY s.seq)
    FROM steward_cluster.operation_steps s WHERE s.operation_id = o.id), '[]'::json) AS steps
FROM steward_cluster.operations o WHERE o.kind = 'patch' ORDER BY o.asked_at DESC LIMIT 1`;

/** The fence (as in cluster-sql): `$1` holder, `$2` epoch. */
const FENCE = `EXISTS (SELECT 1 FROM steward_cluster.primary_lease
  WHERE id = 1 AND holder = $1::text AND epoch = $2::bigint AND expires_at > clock_timestamp() FOR SHARE)`;

/**
 * Fenced: abandons node `$4`'s open or failed step of patch operation `$3` with outcome `$5`, and
 * marks the node for resync (phase `$6`). 1 row when abandoned.
 */
export const ABANDON = `
WITH step AS (
  UPDATE steward_cluster.operation_steps SET state = 'abandoned', outcome = $5, finished_at = clock_timestamp()
  WHERE operation_id = $3 AND node = $4 AND state IN ('waiting', 'released', 'running', 'failed', 'skipped') AND ${FENCE}
  RETURNING node
), mark AS (
  INSERT INTO steward_cluster.node_resyncs (node, operation_id, phase, reason, state, since, changed_at)
  SELECT node, $3, $6, $5, 'waiting', clock_timestamp(), clock_timestamp() FROM step
  ON CONFLICT (node) DO NOTHING
  RETURNING node
)
SELECT (SELECT count(*) FROM step)::int AS abandoned`;

/** Fenced: the waiting (or skipped: down) steps of patch operation `$3` whose node is marked for resync end `abandoned`. */
export const SKIP_RESYNC = `
UPDATE steward_cluster.operation_steps s SET state = 'abandoned', finished_at = clock_timestamp(),
  outcome = format('not run: %s is marked resync (abandoned in patch %s); it catches up by itself once back and the cluster has cut over', s.node, r.phase)
FROM steward_cluster.node_resyncs r
WHERE s.operation_id = $3 AND s.node = r.node AND s.state IN ('waiting', 'skipped') AND ${FENCE}`;

/** Node `$1`'s resync mark, if any. */
export const SELECT_RESYNC = `
SELECT node, operation_id, phase, reason, state, progress, since::text AS since
FROM steward_cluster.node_resyncs WHERE node = $1`;

/** The node says how its catch-up goes: `$2` state, `$3` progress. */
export const RESYNC_PROGRESS = `
UPDATE steward_cluster.node_resyncs SET state = $2, progress = $3, changed_at = clock_timestamp() WHERE node = $1`;

/** The node has caught up: the mark goes (other edges route to it again at their next heartbeat). */
export const RESYNCED = `DELETE FROM steward_cluster.node_resyncs WHERE node = $1`;

/**
 * The patch operations of the cycle node `$1` was abandoned in, oldest first: from the newest
 * `prepare` asked before (or as) the operation it was abandoned in, to now.
 */
export const CYCLE_OPERATIONS = `
WITH r AS (SELECT o.asked_at FROM steward_cluster.node_resyncs n
           JOIN steward_cluster.operations o ON o.id = n.operation_id WHERE n.node = $1),
start AS (SELECT coalesce(max(o.asked_at), '-infinity') AS at FROM steward_cluster.operations o, r
          WHERE o.kind = 'patch' AND o.args->>'phase' = 'prepare' AND o.asked_at <= r.asked_at)
SELECT o.id, o.state, o.args,
  (SELECT count(*) FROM steward_cluster.operation_steps s WHERE s.operation_id = o.id AND s.state = 'done')::int AS done
FROM steward_cluster.operations o, start
WHERE o.kind = 'patch' AND o.asked_at >= start.at ORDER BY o.asked_at, o.id`;

/** Fenced: node `$4`'s open step of operation `$3` fails with `$5` (it went down and may not be abandoned). */
export const FAIL_STEP = `
UPDATE steward_cluster.operation_steps SET state = 'failed', outcome = $5, finished_at = clock_timestamp()
WHERE operation_id = $3 AND node = $4 AND state IN ('waiting', 'released', 'running', 'skipped') AND ${FENCE}`;

/** Every node marked for resync. */
export const RESYNC_NODES = `SELECT node FROM steward_cluster.node_resyncs`;

/**
 * `--strategy together`: node `$2` has its new replicas ready beside the old ones and waits at the
 * commit point of cutover operation `$1`.
 */
export const VOTE = `
INSERT INTO steward_cluster.cutover_votes (operation_id, node, at) VALUES ($1, $2, clock_timestamp())
ON CONFLICT (operation_id, node) DO UPDATE SET at = EXCLUDED.at`;

/** The commit point's decision for cutover operation `$1`, once taken. */
export const SELECT_COMMIT = `SELECT decision, reason FROM steward_cluster.cutover_commits WHERE operation_id = $1`;

/** The nodes waiting at the commit point of operation `$1`. */
export const VOTES = `SELECT node FROM steward_cluster.cutover_votes WHERE operation_id = $1`;

/**
 * Fenced: **the commit point** of a `together` cutover (operation `$3`): `$4` switch|rollback with
 * `$5` why. Taken once; a new primary finds it taken.
 */
export const DECIDE = `
INSERT INTO steward_cluster.cutover_commits (operation_id, decision, reason, driver, epoch, decided_at)
SELECT $3, $4, $5, $1, $2, clock_timestamp() WHERE ${FENCE}
ON CONFLICT (operation_id) DO NOTHING`;
