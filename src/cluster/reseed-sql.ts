/**
 * @module cluster/reseed-sql
 * The reseed record (cluster migration 4) and its statements: one row per reseed of a component on
 * a node (cluster/reseed). A row is `owed` from the boot that found the node away longer than
 * `reseed.after` until a reseed is `done`; each attempt is `running`, then `done` or `failed` with
 * its peer, duration and exit code. Each node writes only its own rows; times are the database's.
 */

export const RESEED_MIGRATION = {
  version: 4,
  name: "reseeds",
  sql: `
CREATE TABLE steward_cluster.reseeds (
  id          BIGSERIAL PRIMARY KEY,
  node        TEXT NOT NULL,
  component   TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('owed', 'running', 'done', 'failed')),
  away_ms     BIGINT,
  peer_node   TEXT,
  peer        TEXT,
  peer_port   INTEGER,
  duration_ms INTEGER,
  exit_code   INTEGER,
  reason      TEXT,
  owed_at     TIMESTAMPTZ NOT NULL,
  at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX reseeds_node_component ON steward_cluster.reseeds (node, component, id);
`,
} as const;

const ROW = `id, component, state, away_ms, peer_node, peer, peer_port, duration_ms, exit_code, reason,
  (extract(epoch FROM owed_at) * 1000)::bigint AS owed_at, (extract(epoch FROM at) * 1000)::bigint AS at`;

/** The latest row of each component of node `$1`. */
export const LATEST_RESEEDS = `
SELECT DISTINCT ON (component) ${ROW}
FROM steward_cluster.reseeds WHERE node = $1 ORDER BY component, id DESC`;

/**
 * A reseed becomes owed (`$1` node, `$2` component, `$3` how long the node was away, ms) — unless
 * one is owed already (its latest row not `done`), which then stands.
 */
export const OWE_RESEED = `
INSERT INTO steward_cluster.reseeds (node, component, state, away_ms, owed_at, at)
SELECT $1, $2, 'owed', $3, clock_timestamp(), clock_timestamp()
WHERE NOT EXISTS (SELECT 1 FROM (SELECT state FROM steward_cluster.reseeds WHERE node = $1 AND component = $2
                                 ORDER BY id DESC LIMIT 1) l WHERE l.state <> 'done')`;

/**
 * An attempt begins from peer `$3` (`$4` address, `$5` port): the owed row becomes it, or after a
 * failed or interrupted attempt a new row carries the same debt on. `$1` node, `$2` component.
 */
export const BEGIN_RESEED = `
WITH latest AS (
  SELECT id, state, away_ms, owed_at FROM steward_cluster.reseeds WHERE node = $1 AND component = $2
  ORDER BY id DESC LIMIT 1
), taken AS (
  UPDATE steward_cluster.reseeds r SET state = 'running', peer_node = $3, peer = $4, peer_port = $5,
    at = clock_timestamp()
  FROM latest WHERE r.id = latest.id AND latest.state = 'owed'
  RETURNING r.id
), added AS (
  INSERT INTO steward_cluster.reseeds (node, component, state, away_ms, peer_node, peer, peer_port, owed_at, at)
  SELECT $1, $2, 'running', latest.away_ms, $3, $4, $5, latest.owed_at, clock_timestamp()
  FROM latest WHERE latest.state <> 'owed'
  RETURNING id
)
SELECT id FROM taken UNION ALL SELECT id FROM added`;

/** An attempt ended: `$2` done or failed, `$3` duration ms, `$4` exit code, `$5` reason. `$1` id. */
export const END_RESEED = `
UPDATE steward_cluster.reseeds SET state = $2, duration_ms = $3, exit_code = $4, reason = $5, at = clock_timestamp()
WHERE id = $1
RETURNING ${ROW}`;

/** At boot: an attempt a previous daemon of node `$1` did not finish failed (the debt stands). */
export const INTERRUPTED_RESEEDS = `
UPDATE steward_cluster.reseeds SET state = 'failed', reason = 'interrupted: the daemon ended while it ran',
  at = clock_timestamp()
WHERE node = $1 AND state = 'running'`;
