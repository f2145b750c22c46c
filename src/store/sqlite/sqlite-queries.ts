/**
 * @module store/sqlite/sqlite-queries
 * The store's statements as kysely's SQLite compiler emitted them (`../compiled-queries.ts`):
 * better-sqlite3 prepares and runs them synchronously, so a commit stays one fast, blocking
 * transaction.
 */
import { SQLITE } from "../compiled-queries.js";
import type { StoreQueries } from "../queries.js";
import { storeQuery } from "../query.js";

let queries: StoreQueries | undefined;

/** The statements for SQLite (placeholders `?`). */
export function sqliteQueries(): StoreQueries {
  queries ??= Object.fromEntries(
    Object.entries(SQLITE).map(([key, compiled]) => [key, storeQuery(compiled)]),
  ) as unknown as StoreQueries;
  return queries;
}
