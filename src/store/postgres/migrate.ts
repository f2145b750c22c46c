/**
 * @module store/postgres/migrate
 * Runs pending schema migrations on PostgreSQL in one transaction that first takes a transaction-
 * scoped advisory lock: two daemons opening the same fresh database at once queue on the lock, the
 * first applies the migrations, the second finds them recorded and applies nothing. PostgreSQL's
 * DDL is transactional, so a failing migration leaves nothing applied.
 */
import type pg from "pg";

import { StoreSchemaError } from "../errors.js";
import { assertWellFormed, MIGRATIONS, SCHEMA_MIGRATIONS_DDL, type Migration } from "../migrations/index.js";

/**
 * The advisory lock key migrations hold: `STWD` in ASCII. Any other user of advisory locks on the
 * same database must avoid it.
 */
export const MIGRATION_LOCK_KEY = 0x5354_5744;

/**
 * Applies the migrations of `migrations` not yet recorded and returns their versions (empty when the
 * database is up to date). `client` must not be inside a transaction.
 *
 * @throws StoreSchemaError when the database records a version `migrations` does not contain.
 * @example await migratePostgres(client, "postgres://steward@db:5432/shop"); // → [1, 2], then []
 */
export async function migratePostgres(
  client: pg.ClientBase,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  assertWellFormed(migrations);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set(await versionsIn(client));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new StoreSchemaError(location, Math.max(...unknown), migrations.length);
    }
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await client.query(m.sql);
      await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        m.version,
        m.name,
        Date.now(),
      ]);
    }
    await client.query("COMMIT");
    return pending.map((m) => m.version);
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined); // the connection may be gone: err says why
    throw err;
  }
}

/** Versions recorded in `schema_migrations`, ascending (empty before the first migration). */
export async function appliedVersions(client: pg.ClientBase | pg.Pool): Promise<number[]> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
  if (exists.rows[0]?.t === null) return [];
  return versionsIn(client);
}

async function versionsIn(client: pg.ClientBase | pg.Pool): Promise<number[]> {
  const result = await client.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return result.rows.map((r) => r.version);
}

/**
 * Creates `schema` unless it exists, under the migration lock: `CREATE SCHEMA IF NOT EXISTS` run
 * by two sessions at once can fail on the catalog's unique index. `schema` must be a plain
 * identifier (lower-case letters, digits, `_`), as cluster/schema-name makes them.
 */
export async function createSchema(client: pg.ClientBase, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
