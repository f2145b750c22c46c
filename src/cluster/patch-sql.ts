/**
 * @module cluster/patch-sql
 * The patch cycle on every node (cluster migration 6): a cluster operation of kind `patch` carries
 * its phase and options in `args`, and the patches themselves travel through the store as
 * **blobs** — content-addressed by SHA-256, cut in chunks of 1 MiB so no statement holds a whole
 * archive — so no node needs a shared file system or ssh. Each node checks the checksum of what it
 * read before using it.
 */

export const PATCH_MIGRATION = {
  version: 6,
  name: "patch cycle on every node",
  sql: `
ALTER TABLE steward_cluster.operations DROP CONSTRAINT operations_kind_check;
ALTER TABLE steward_cluster.operations ADD CONSTRAINT operations_kind_check
  CHECK (kind IN ('start', 'stop', 'restart', 'patch'));
ALTER TABLE steward_cluster.operations ADD COLUMN args JSONB;
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
