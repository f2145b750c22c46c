/**
 * @module store/postgres/pg-queries
 * The store's statements as kysely's PostgreSQL compiler emitted them (`../compiled-queries.ts`,
 * placeholders `$1`, `$2`…), run by `pg` as named prepared statements: each connection parses a
 * statement once.
 */
import type pg from "pg";

import { POSTGRES } from "../compiled-queries.js";
import type { StoreQueries } from "../queries.js";
import { storeQuery, type StoreQuery } from "../query.js";

/** A statement run on a pooled client (or the pool itself), with parameters taken from a row. */
export interface PgStatement<P extends object, R> {
  rows(on: pg.ClientBase | pg.Pool, values: P): Promise<R[]>;
}

export type PgStatements = {
  [K in keyof StoreQueries]: StoreQueries[K] extends StoreQuery<infer P, infer R> ? PgStatement<P, R> : never;
};

let queries: StoreQueries | undefined;
let statements: PgStatements | undefined;

/** The statements compiled for PostgreSQL, on first use. Text sorts with `COLLATE "C"` (code points). */
export function pgQueries(): StoreQueries {
  queries ??= Object.fromEntries(
    Object.entries(POSTGRES).map(([key, compiled]) => [key, storeQuery(compiled)]),
  ) as unknown as StoreQueries;
  return queries;
}

function statement<P extends object, R>(name: string, query: StoreQuery<P, R>): PgStatement<P, R> {
  return {
    rows: async (on, values) => {
      const result = await on.query({ name: `steward_${name}`, text: query.sql, values: query.bind(values) });
      return result.rows as R[];
    },
  };
}

/** `pgQueries()` as named prepared statements. */
export function pgStatements(): PgStatements {
  statements ??= Object.fromEntries(
    Object.entries(pgQueries()).map(([key, query]) => [
      key,
      statement(key, query as StoreQuery<object, unknown>),
    ]),
  ) as PgStatements;
  return statements;
}
