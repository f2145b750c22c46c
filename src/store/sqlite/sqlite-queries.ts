/**
 * @module store/sqlite/sqlite-queries
 * The store's statements compiled by kysely's SQLite compiler, once per process. kysely only builds
 * the SQL here (its `DummyDriver` never executes anything): better-sqlite3 prepares and runs it
 * synchronously, so a commit stays one fast, blocking transaction.
 */
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from "kysely";

import { buildQueries, type StoreQueries } from "../queries.js";
import type { StoreTables } from "../schema.js";

/** A kysely instance that only builds and compiles SQLite (its `DummyDriver` runs nothing). */
export function sqliteQueryBuilder(): Kysely<StoreTables> {
  return new Kysely<StoreTables>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

let compiled: StoreQueries | undefined;

/** The statements for SQLite (placeholders `?`), compiled on first use. */
export function sqliteQueries(): StoreQueries {
  compiled ??= buildQueries(sqliteQueryBuilder(), "binary");
  return compiled;
}
