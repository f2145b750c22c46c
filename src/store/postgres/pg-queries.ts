/**
 * @module store/postgres/pg-queries
 * The store's statements compiled by kysely's PostgreSQL compiler (placeholders `$1`, `$2`…), once per
 * process, and run by `pg` as named prepared statements: each connection parses a statement once.
 */
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import type pg from "pg";

import { buildQueries, type StoreQueries } from "../queries.js";
import type { StoreQuery } from "../query.js";
import type { StoreTables } from "../schema.js";

/** A statement run on a pooled client (or the pool itself), with parameters taken from a row. */
export interface PgStatement<P extends object, R> {
  rows(on: pg.ClientBase | pg.Pool, values: P): Promise<R[]>;
}

export type PgStatements = {
  [K in keyof StoreQueries]: StoreQueries[K] extends StoreQuery<infer P, infer R> ? PgStatement<P, R> : never;
};

/** A kysely instance that only builds and compiles PostgreSQL (its `DummyDriver` runs nothing). */
export function pgQueryBuilder(): Kysely<StoreTables> {
  return new Kysely<StoreTables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

let queries: StoreQueries | undefined;
let statements: PgStatements | undefined;

/** The statements compiled for PostgreSQL, on first use. Text sorts with `COLLATE "C"` (code points). */
export function pgQueries(): StoreQueries {
  queries ??= buildQueries(pgQueryBuilder(), "C");
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
