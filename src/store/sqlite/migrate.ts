/**
 * @module store/sqlite/migrate
 * Runs pending schema migrations on a SQLite connection, all in one IMMEDIATE transaction: either
 * every pending migration is applied and recorded in `schema_migrations`, or none is. Reopening an
 * up-to-date store applies nothing.
 */
import type Database from "better-sqlite3";

import { StoreSchemaError } from "../errors.js";
import { assertWellFormed, MIGRATIONS, SCHEMA_MIGRATIONS_DDL, type Migration } from "../migrations/index.js";

/**
 * Applies the migrations of `migrations` not yet recorded in the store and returns their versions
 * (empty when the store is up to date).
 *
 * @throws StoreSchemaError when the store records a version `migrations` does not contain (it was
 *   written by a newer Steward).
 * @example migrateSqlite(db, "/srv/shop/.steward/state.db"); // → [1] on a new store, [] afterwards
 */
export function migrateSqlite(
  db: Database.Database,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  assertWellFormed(migrations);
  const run = db.transaction((): number[] => {
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set(
      db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all() as number[],
    );
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new StoreSchemaError(location, Math.max(...unknown), migrations.length);
    }
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
    return pending.map((m) => m.version);
  });
  return run.immediate();
}

/** Versions recorded in `schema_migrations`, ascending (empty before the first migration). */
export function appliedVersions(db: Database.Database): number[] {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return [];
  return db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all() as number[];
}
