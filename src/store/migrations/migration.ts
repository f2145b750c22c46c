/**
 * @module store/migrations/migration
 * What a numbered schema migration is. Each lives in its own module (`001_initial.ts`, …) as portable
 * SQL that both SQLite and PostgreSQL accept: INTEGER/BIGINT, TEXT, JSON kept as TEXT, booleans as
 * INTEGER 0/1 with a CHECK. The SQL is embedded in TypeScript because `tsc` does not copy `.sql` files
 * to `dist/`.
 */

export interface Migration {
  /** 1, 2, 3…: applied in this order, each exactly once, recorded in `schema_migrations`. */
  version: number;
  /** Short snake_case name, e.g. `initial`. */
  name: string;
  /** One or more statements separated by `;`. Runs inside the migration transaction. */
  sql: string;
}

/**
 * The table recording applied versions. Created by the migration runner before it reads what is
 * applied, so it is not itself a numbered migration.
 */
export const SCHEMA_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at BIGINT  NOT NULL
)`;

/**
 * Throws unless `migrations` are numbered 1..n without gaps, with snake_case names and some SQL: a
 * programming error, caught by the test suite before it can reach a user's store.
 */
export function assertWellFormed(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration #${i + 1} has version ${m.version}; versions must run 1..n without gaps`);
    }
    if (!/^[a-z0-9_]+$/.test(m.name)) {
      throw new Error(`migration ${m.version}: name \`${m.name}\` must be snake_case`);
    }
    if (m.sql.trim() === "") {
      throw new Error(`migration ${m.version} (${m.name}) has no SQL`);
    }
  });
}
