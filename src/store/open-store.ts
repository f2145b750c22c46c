/**
 * @module store/open-store
 * Opens the **store** a topology names (`store:` in steward.yaml, compiled to a `StoreSpec`).
 */
import type { StoreSpec } from "../topology/types.js";
import { StoreUnsupportedError } from "./errors.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { StateStore } from "./state-store.js";

/**
 * Opens the store of `spec`, creating and migrating it if need be.
 *
 * @throws StoreUnsupportedError (STW-2004) for `postgres` until cluster mode arrives.
 * @throws StoreCorruptError, StoreOpenError, StoreSchemaError from the SQLite store.
 * @example const store = await openStore(topology.store);
 */
export async function openStore(spec: StoreSpec): Promise<StateStore> {
  switch (spec.kind) {
    case "sqlite":
      return SqliteStore.open(spec.path);
    case "postgres":
      throw new StoreUnsupportedError(
        "PostgreSQL store arrives with cluster mode (issue 3); use `store: sqlite` for now",
        { kind: spec.kind },
      );
  }
}
