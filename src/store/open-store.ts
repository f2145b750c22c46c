/**
 * @module store/open-store
 * Opens the **store** a topology names (`store:` in steward.yaml, compiled to a `StoreSpec`).
 */
import type { StoreSpec } from "../topology/types.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { StateStore } from "./state-store.js";

/**
 * Opens the store of `spec`, creating and migrating it if need be. `schema` (PostgreSQL only): a
 * cluster node keeps its state records in its own schema (cluster/schema-name). The PostgreSQL driver is loaded
 * only when a topology asks for it, so a SQLite daemon does not pay for it at start.
 *
 * @throws StoreCorruptError, StoreOpenError, StoreSchemaError from the SQLite store.
 * @throws StoreUnreachableError, StoreOpenError, StoreSchemaError from the PostgreSQL store.
 * @example const store = await openStore(topology.store);
 */
export async function openStore(spec: StoreSpec, opts: { schema?: string } = {}): Promise<StateStore> {
  switch (spec.kind) {
    case "sqlite":
      return SqliteStore.open(spec.path);
    case "postgres": {
      const { PostgresStore } = await import("./postgres/postgres-store.js");
      return PostgresStore.open(spec.url, opts.schema !== undefined ? { schema: opts.schema } : {});
    }
  }
}
