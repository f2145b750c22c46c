/**
 * @module cluster/cluster-sql
 * The shared tables of a cluster, in schema `steward_cluster`, and the statements on them. Every
 * time is the **database's** clock (`clock_timestamp()`): no two machines' clocks are ever compared.
 * PostgreSQL only (a cluster needs it), written as plain SQL.
 *
 * - `nodes`: one row per node name; `session` names the daemon that holds it now (one per boot).
 * - `primary_lease`: one row; `holder`, `epoch` (+1 at each acquisition), `expires_at`.
 * - `primary_record`: what the primary publishes each heartbeat (its epoch, its topology digest),
 *   written only through the fence (`FENCED_PUBLISH`).
 * - `node_view`: each node's state as derived from its heartbeat age, the same for every reader.
 */

import { OPERATIONS_MIGRATION } from "./operations-sql.js";
import { DRAIN_MIGRATION, drainOf } from "./drain-sql.js";
import { PLACEMENT_MIGRATION } from "./placement-sql.js";
import { RESEED_MIGRATION } from "./reseed-sql.js";
import { PATCH_MIGRATION, resyncOf } from "./patch-sql.js";

/** Numbered like the store's migrations; recorded in `steward_cluster.schema_migrations`. */
export const CLUSTER_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "membership",
    sql: `
CREATE TABLE steward_cluster.nodes (
  name            TEXT PRIMARY KEY,
  schema_name     TEXT NOT NULL UNIQUE,
  session         TEXT NOT NULL,
  advertise       TEXT NOT NULL,
  hostname        TEXT NOT NULL,
  home            TEXT NOT NULL,
  pid             INTEGER NOT NULL,
  instance        INTEGER,
  topology_digest TEXT NOT NULL,
  heartbeat_ms    INTEGER NOT NULL CHECK (heartbeat_ms > 0),
  allowed_misses  INTEGER NOT NULL CHECK (allowed_misses >= 0),
  state           TEXT NOT NULL CHECK (state IN ('up', 'left')),
  registered_at   TIMESTAMPTZ NOT NULL,
  heartbeat_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE steward_cluster.primary_lease (
  id          SMALLINT PRIMARY KEY CHECK (id = 1),
  holder      TEXT,
  epoch       BIGINT NOT NULL DEFAULT 0,
  expires_at  TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
  acquired_at TIMESTAMPTZ
);
INSERT INTO steward_cluster.primary_lease (id) VALUES (1);
CREATE TABLE steward_cluster.primary_record (
  id              SMALLINT PRIMARY KEY CHECK (id = 1),
  node            TEXT NOT NULL,
  epoch           BIGINT NOT NULL,
  topology_digest TEXT NOT NULL,
  written_at      TIMESTAMPTZ NOT NULL
);
CREATE VIEW steward_cluster.node_view AS
  SELECT n.*,
    (extract(epoch FROM clock_timestamp() - n.heartbeat_at) * 1000)::bigint AS age_ms,
    CASE
      WHEN n.state = 'left' THEN 'left'
      WHEN clock_timestamp() - n.heartbeat_at > n.heartbeat_ms * (n.allowed_misses + 1) * interval '1 ms' THEN 'down'
      WHEN clock_timestamp() - n.heartbeat_at > n.heartbeat_ms * 1.5 * interval '1 ms' THEN 'suspect'
      ELSE 'up'
    END AS derived_state
  FROM steward_cluster.nodes n;
`,
  },
  OPERATIONS_MIGRATION,
  PLACEMENT_MIGRATION,
  RESEED_MIGRATION,
  DRAIN_MIGRATION,
  PATCH_MIGRATION,
];

/** The advisory lock cluster migrations and name claims hold: `STWC` in ASCII. */
export const CLUSTER_LOCK_KEY = 0x5354_5743;

/** A name's current holder, with its heartbeat age by the database's clock; `$1` name. */
export const SELECT_NODE_FOR_CLAIM = `
SELECT name, schema_name, session, advertise, hostname, home, pid, state, heartbeat_ms, allowed_misses,
  (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::bigint AS age_ms
FROM steward_cluster.nodes WHERE name = $1 FOR UPDATE`;

/** Registers (or re-registers) a node for a new session. */
export const UPSERT_NODE = `
INSERT INTO steward_cluster.nodes (name, schema_name, session, advertise, hostname, home, pid, instance,
  topology_digest, heartbeat_ms, allowed_misses, state, registered_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, 'up', clock_timestamp(), clock_timestamp())
ON CONFLICT (name) DO UPDATE SET schema_name = EXCLUDED.schema_name, session = EXCLUDED.session,
  advertise = EXCLUDED.advertise, hostname = EXCLUDED.hostname, home = EXCLUDED.home, pid = EXCLUDED.pid,
  instance = NULL, topology_digest = EXCLUDED.topology_digest, heartbeat_ms = EXCLUDED.heartbeat_ms,
  allowed_misses = EXCLUDED.allowed_misses, state = 'up', registered_at = clock_timestamp(),
  heartbeat_at = clock_timestamp()`;

/**
 * One heartbeat, one round trip: refresh this node's row (only while this session holds the name
 * and has not left), renew or acquire the primary lease when `$5` asks, read the lease and every
 * node's derived state (this node's own row as it was before this beat).
 * `$1` name, `$2` session, `$3` instance, `$4` digest, `$5` try the lease, `$6` the epoch this
 * node believes it holds (null: none), `$7` lease term in ms.
 *
 * The lease is taken when free, expired, or already this node's; its epoch stays only when this
 * node renews the very epoch it holds, live — any other acquisition is a new epoch, which fences
 * every write made under an older one. Data-modifying CTEs see the statement's snapshot, so the
 * final SELECT reads the lease as it was unless this statement changed it.
 */
export const HEARTBEAT = `
WITH beat AS (
  UPDATE steward_cluster.nodes SET heartbeat_at = clock_timestamp(), instance = $3::int, topology_digest = $4::text
  WHERE name = $1 AND session = $2 AND state = 'up'
  RETURNING name
), lease AS (
  UPDATE steward_cluster.primary_lease SET
    epoch = CASE WHEN holder = $1 AND epoch = $6::bigint AND expires_at > clock_timestamp() THEN epoch ELSE epoch + 1 END,
    acquired_at = CASE WHEN holder = $1 AND epoch = $6::bigint AND expires_at > clock_timestamp()
                       THEN acquired_at ELSE clock_timestamp() END,
    holder = $1,
    expires_at = clock_timestamp() + $7::float8 * interval '1 ms'
  WHERE id = 1 AND $5::boolean AND EXISTS (SELECT 1 FROM beat)
    AND (holder IS NULL OR holder = $1 OR expires_at <= clock_timestamp())
  RETURNING holder, epoch, expires_at
)
SELECT (SELECT count(*) FROM beat)::int AS beat,
  l.holder, l.epoch,
  (extract(epoch FROM l.expires_at - clock_timestamp()) * 1000)::bigint AS lease_left_ms,
  (SELECT count(*) FROM lease)::int AS lease_written,
  (SELECT json_agg(json_build_object('name', v.name, 'state', v.derived_state, 'advertise', v.advertise,
     'ageMs', v.age_ms, 'digest', v.topology_digest, 'drain', ${drainOf("v")},
     'resync', ${resyncOf("v")}) ORDER BY v.name COLLATE "C")
   FROM steward_cluster.node_view v) AS nodes
FROM (SELECT holder, epoch, expires_at FROM lease
      UNION ALL
      SELECT holder, epoch, expires_at FROM steward_cluster.primary_lease
      WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM lease)) l`;

/**
 * The fence: true only while `$1` holds the lease at epoch `$2`, unexpired by the database's
 * clock. `FOR SHARE` keeps the lease row from changing until the write commits, so no other node
 * can acquire it in between.
 */
const FENCE = `EXISTS (SELECT 1 FROM steward_cluster.primary_lease
  WHERE id = 1 AND holder = $1::text AND epoch = $2::bigint AND expires_at > clock_timestamp() FOR SHARE)`;

/** The primary publishes its epoch and topology digest (`$3`), fenced; 1 row when accepted. */
export const FENCED_PUBLISH = `
INSERT INTO steward_cluster.primary_record (id, node, epoch, topology_digest, written_at)
SELECT 1, $1, $2, $3, clock_timestamp() WHERE ${FENCE}
ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, epoch = EXCLUDED.epoch,
  topology_digest = EXCLUDED.topology_digest, written_at = EXCLUDED.written_at`;

/** Gives the lease up at once (leave, orderly shutdown): the next node need not wait for expiry. */
export const RELEASE_LEASE = `
UPDATE steward_cluster.primary_lease SET holder = NULL, expires_at = clock_timestamp()
WHERE id = 1 AND holder = $1 AND epoch = $2`;

/** Marks this node `left` (only while this session holds the name). */
export const LEAVE = `UPDATE steward_cluster.nodes SET state = 'left', heartbeat_at = clock_timestamp()
WHERE name = $1 AND session = $2`;

/** Every node as every reader sees it, with the lease and the primary's record. */
export const SELECT_VIEW = `
SELECT v.name, v.schema_name, v.advertise, v.hostname, v.home, v.pid, v.instance, v.topology_digest,
  v.heartbeat_ms, v.allowed_misses, v.derived_state AS state, v.age_ms, ${drainOf("v")} AS drain, ${resyncOf("v")} AS resync,
  l.holder, l.epoch, (l.expires_at > clock_timestamp()) AS lease_live,
  (extract(epoch FROM l.expires_at - clock_timestamp()) * 1000)::bigint AS lease_left_ms,
  p.topology_digest AS primary_digest
FROM steward_cluster.node_view v
CROSS JOIN steward_cluster.primary_lease l
LEFT JOIN steward_cluster.nodes p ON p.name = l.holder AND l.expires_at > clock_timestamp()
ORDER BY v.name COLLATE "C"`;
