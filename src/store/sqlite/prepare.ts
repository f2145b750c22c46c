/**
 * @module store/sqlite/prepare
 * The compiled statements prepared once on a better-sqlite3 connection, each run with the positional
 * parameters its `StoreQuery` binds from a row.
 */
import type Database from "better-sqlite3";

import type { StoreQueries } from "../queries.js";
import type { StoreQuery } from "../query.js";

/** A prepared statement that takes its parameters from a row. */
export interface SqliteStatement<P extends object, R> {
  get(values: P): R | undefined;
  all(values: P): R[];
  run(values: P): void;
}

export type SqliteStatements = {
  [K in keyof StoreQueries]: StoreQueries[K] extends StoreQuery<infer P, infer R>
    ? SqliteStatement<P, R>
    : never;
};

function prepareOne<P extends object, R>(
  db: Database.Database,
  query: StoreQuery<P, R>,
): SqliteStatement<P, R> {
  const stmt = db.prepare(query.sql);
  return {
    get: (values) => stmt.get(...query.bind(values)) as R | undefined,
    all: (values) => stmt.all(...query.bind(values)) as R[],
    run: (values) => void stmt.run(...query.bind(values)),
  };
}

/** Prepares every statement of `queries` on `db`. */
export function prepareAll(db: Database.Database, queries: StoreQueries): SqliteStatements {
  return Object.fromEntries(
    Object.entries(queries).map(([key, query]) => [
      key,
      prepareOne(db, query as StoreQuery<object, unknown>),
    ]),
  ) as SqliteStatements;
}
