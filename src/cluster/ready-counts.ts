/**
 * @module cluster/ready-counts
 * How many replicas of each component are `ready` on each node, as the nodes' own state records say:
 * what rolling operations count `min_available` over (design §7). One statement for all nodes.
 */
import type pg from "pg";
import { queryReplicaTables } from "./node-schemas.js";

/** component → node → ready replicas (a node with none has no entry). */
export type ReadyCounts = Map<string, Map<string, number>>;

/**
 * The ready replicas on `nodes` (only nodes whose records can be believed: `up` or `suspect`).
 * @example const ready = await readReadyCounts(pool, ["n1", "n2", "n3"]);
 */
export async function readReadyCounts(
  db: pg.Pool | pg.ClientBase,
  nodes: readonly string[],
): Promise<ReadyCounts> {
  const rows = await queryReplicaTables<{ node: string; component: string; ready: number }>(
    db,
    nodes,
    (node, table) =>
      `SELECT ${node} AS node, component, count(*)::int AS ready FROM ${table} WHERE state = 'ready' GROUP BY component`,
    [],
  );
  const out: ReadyCounts = new Map();
  for (const r of rows) {
    const perNode = out.get(r.component) ?? new Map<string, number>();
    perNode.set(r.node, r.ready);
    out.set(r.component, perNode);
  }
  return out;
}

/** The ready replicas of `component` over the cluster, leaving out `except`. */
export function readyOutside(counts: ReadyCounts, component: string, except: readonly string[] = []): number {
  let n = 0;
  for (const [node, ready] of counts.get(component) ?? []) if (!except.includes(node)) n += ready;
  return n;
}
