/**
 * @module cluster/node-schemas
 * One statement over several nodes' schemas (each node keeps its state records in its own schema,
 * cluster/schema-name): the same `SELECT` on each node's `replicas` table, joined by `UNION ALL`.
 * A node whose schema has no replica table yet (its daemon is still booting) is left out.
 */
import pg from "pg";
import { nodeSchemaName } from "./schema-name.js";

/**
 * Runs `select(node, table)` for every node in `nodes` as one statement; `table` is the node's
 * quoted `schema.replicas`, `node` its quoted name as a literal.
 * @example await queryReplicaTables(pool, ["n1", "n2"], (node, table) => `SELECT ${node} AS node, count(*) FROM ${table}`, [])
 */
export function queryReplicaTables<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.ClientBase,
  nodes: readonly string[],
  select: (node: string, table: string) => string,
  params: unknown[],
): Promise<R[]> {
  return queryNodeTables(db, nodes, "replicas", select, params);
}

/** As `queryReplicaTables`, on each node's `table` (a node whose schema lacks it is left out). */
export async function queryNodeTables<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.ClientBase,
  nodes: readonly string[],
  table: string,
  select: (node: string, table: string) => string,
  params: unknown[],
): Promise<R[]> {
  if (nodes.length === 0) return [];
  const sql = (list: readonly string[]): string =>
    list
      .map((n) => select(pg.escapeLiteral(n), `${pg.escapeIdentifier(nodeSchemaName(n))}.${table}`))
      .map((q) => `(${q})`)
      .join(" UNION ALL ");
  try {
    return (await db.query<R>(sql(nodes), params)).rows;
  } catch (err) {
    if ((err as { code?: string }).code !== "42P01") throw err; // undefined_table: a node still booting
    const present = await db.query<{ s: string }>(
      "SELECT s FROM unnest($1::text[]) AS s WHERE to_regclass(quote_ident(s) || '.' || $2) IS NOT NULL",
      [nodes.map(nodeSchemaName), table],
    );
    const have = new Set(present.rows.map((r) => r.s));
    const ready = nodes.filter((n) => have.has(nodeSchemaName(n)));
    if (ready.length === 0) return [];
    return (await db.query<R>(sql(ready), params)).rows;
  }
}
