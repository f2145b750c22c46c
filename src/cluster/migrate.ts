/**
 * @module cluster/migrate
 * Creates the shared schema `steward_cluster` and applies its numbered migrations, in one
 * transaction under an advisory lock: three nodes booting at once on a fresh database queue on
 * the lock, the first creates everything, the others find it done.
 */
import type pg from "pg";
import { CLUSTER_LOCK_KEY, CLUSTER_MIGRATIONS } from "./cluster-sql.js";

/** Applies the pending cluster migrations; returns their versions (empty when up to date). */
export async function migrateCluster(client: pg.ClientBase): Promise<number[]> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [CLUSTER_LOCK_KEY]);
    await client.query("CREATE SCHEMA IF NOT EXISTS steward_cluster");
    await client.query(
      `CREATE TABLE IF NOT EXISTS steward_cluster.schema_migrations (
         version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
    );
    const applied = new Set(
      (
        await client.query<{ version: number }>("SELECT version FROM steward_cluster.schema_migrations")
      ).rows.map((r) => r.version),
    );
    const newer = [...applied].filter((v) => !CLUSTER_MIGRATIONS.some((m) => m.version === v));
    if (newer.length > 0)
      throw new Error(
        `the cluster tables are at version ${Math.max(...newer)}, newer than this Steward knows (${CLUSTER_MIGRATIONS.length}); upgrade this node`,
      );
    const pending = CLUSTER_MIGRATIONS.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await client.query(m.sql);
      await client.query(
        "INSERT INTO steward_cluster.schema_migrations (version, name, applied_at) VALUES ($1, $2, clock_timestamp())",
        [m.version, m.name],
      );
    }
    await client.query("COMMIT");
    return pending.map((m) => m.version);
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
