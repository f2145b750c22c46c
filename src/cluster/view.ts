/**
 * @module cluster/view
 * `steward cluster status`: every node as the store says — state derived from its heartbeat age
 * by the database's clock, so every node reads the same — the primary and its epoch, drift, and
 * each node's replicas read from that node's own schema.
 */
import pg from "pg";
import { SELECT_VIEW } from "./cluster-sql.js";
import type { DrainState } from "./drain-sql.js";
import type { ClusterView, NodeReplica, NodeState, NodeView } from "./types.js";

interface ViewRow {
  name: string;
  schema_name: string;
  advertise: string;
  hostname: string;
  home: string;
  pid: number;
  instance: number | null;
  topology_digest: string;
  heartbeat_ms: number;
  allowed_misses: number;
  state: NodeState;
  age_ms: number;
  drain: DrainState | null;
  resync: boolean;
  holder: string | null;
  epoch: number;
  lease_live: boolean;
  lease_left_ms: number;
  primary_digest: string | null;
}

/** Reads the view in 3 round trips: nodes and lease; which schemas have replicas; every node's replicas. */
export async function readClusterView(db: pg.Pool | pg.ClientBase, self: string): Promise<ClusterView> {
  const { rows } = await db.query<ViewRow>(SELECT_VIEW);
  const replicas = await readReplicas(
    db,
    rows.map((r) => ({ node: r.name, schema: r.schema_name })),
  );
  const first = rows[0];
  const primary = first?.lease_live ? first.holder : null;
  return {
    self,
    primary,
    epoch: first?.epoch ?? 0,
    leaseLeftMs: first?.lease_left_ms ?? 0,
    nodes: rows.map((r): NodeView => ({
      name: r.name,
      state: r.state,
      advertise: r.advertise,
      hostname: r.hostname,
      home: r.home,
      pid: r.pid,
      instance: r.instance,
      heartbeatAgeMs: r.age_ms,
      heartbeatMs: r.heartbeat_ms,
      allowedMisses: r.allowed_misses,
      topologyDigest: r.topology_digest,
      drain: r.drain,
      resync: r.resync,
      drift: r.primary_digest !== null && r.topology_digest !== r.primary_digest,
      primary: r.name === primary,
      schema: r.schema_name,
      replicas: replicas.get(r.name) ?? [],
    })),
  };
}

/** Each node's replica records, from the schemas that have them (a node may not have migrated yet). */
async function readReplicas(
  db: pg.Pool | pg.ClientBase,
  nodes: { node: string; schema: string }[],
): Promise<Map<string, NodeReplica[]>> {
  const out = new Map<string, NodeReplica[]>();
  if (nodes.length === 0) return out;
  const present = await db.query<{ s: string }>(
    "SELECT s FROM unnest($1::text[]) AS s WHERE to_regclass(quote_ident(s) || '.replicas') IS NOT NULL",
    [nodes.map((n) => n.schema)],
  );
  const have = new Set(present.rows.map((r) => r.s));
  const parts = nodes
    .filter((n) => have.has(n.schema))
    .map(
      (n) =>
        `SELECT ${pg.escapeLiteral(n.node)} AS node, component, replica_index, state, pid, port ` +
        `FROM ${pg.escapeIdentifier(n.schema)}.replicas`,
    );
  if (parts.length === 0) return out;
  const { rows } = await db.query<{
    node: string;
    component: string;
    replica_index: number;
    state: string;
    pid: number | null;
    port: number | null;
  }>(
    `SELECT * FROM (${parts.join(" UNION ALL ")}) r ORDER BY node COLLATE "C", component COLLATE "C", replica_index`,
  );
  for (const r of rows) {
    const list = out.get(r.node) ?? [];
    list.push({ component: r.component, index: r.replica_index, state: r.state, pid: r.pid, port: r.port });
    out.set(r.node, list);
  }
  return out;
}
