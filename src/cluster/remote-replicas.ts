/**
 * @module cluster/remote-replicas
 * What an edge needs to route to the other nodes' replicas (design §7): the ready replicas, with a
 * port, of the routed components on every `up` node but this one (and but those being drained), at the node's advertised
 * address. The nodes and their states come from the last heartbeat (no round trip); the replicas
 * from each node's schema in **one** statement for all nodes.
 */
import type pg from "pg";
import { queryReplicaTables } from "./node-schemas.js";
import type { DrainState } from "./drain-sql.js";
import type { NodeState } from "./types.js";

/** A node as the last heartbeat saw it. */
export interface HeartbeatNode {
  name: string;
  state: NodeState;
  advertise: string;
  /** A node being drained (or drained) gets no request from other nodes' edges. */
  drain?: DrainState | null;
  /** A node abandoned by a patch phase gets none either until it has caught up (cluster/patch-sql). */
  resync?: boolean;
}

/** One replica of another node that may receive requests. */
export interface RemoteReplicaRecord {
  component: string;
  node: string;
  index: number;
  /** The node's advertised address. */
  host: string;
  port: number;
}

/**
 * Reads the ready replicas of `components` on every `up` node other than `self`. A node whose
 * schema has no replica table yet (it is still booting) contributes nothing.
 * @example await readRemoteReplicas(pool, "n1", membership.nodes, ["web"])
 */
export async function readRemoteReplicas(
  db: pg.Pool | pg.ClientBase,
  self: string,
  nodes: readonly HeartbeatNode[],
  components: readonly string[],
): Promise<RemoteReplicaRecord[]> {
  const others = nodes.filter((n) => n.name !== self && n.state === "up" && !n.drain && !n.resync);
  if (others.length === 0 || components.length === 0) return [];
  const rows = await queryReplicaTables<{
    node: string;
    component: string;
    replica_index: number;
    port: number;
  }>(
    db,
    others.map((n) => n.name),
    (node, table) =>
      `SELECT ${node} AS node, component, replica_index, port FROM ${table} ` +
      `WHERE state = 'ready' AND port IS NOT NULL AND component = ANY($1::text[])`,
    [components],
  );
  const address = new Map(others.map((n) => [n.name, n.advertise]));
  return rows.map((r) => ({
    component: r.component,
    node: r.node,
    index: r.replica_index,
    host: address.get(r.node) ?? "127.0.0.1",
    port: r.port,
  }));
}
