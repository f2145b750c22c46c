/**
 * @module store/state-store
 * The one interface every store implements (SQLite now, PostgreSQL in cluster mode). Methods are
 * async so both backends fit; a batch commits in one transaction, durably (fsync) before it resolves.
 */
import type { ComponentRecord, DaemonRecord, ReplicaRecord, StateBatch } from "./records.js";

export interface StateStore {
  readonly kind: "sqlite" | "postgres";
  /** Where the state lives, for messages (`/srv/shop/.steward/state.db`). */
  readonly location: string;
  readDaemon(): Promise<DaemonRecord | undefined>;
  listComponents(): Promise<ComponentRecord[]>;
  /** Ordered by component, then index. */
  listReplicas(): Promise<ReplicaRecord[]>;
  /** Apply every change of `batch` in one transaction. */
  commit(batch: StateBatch): Promise<void>;
  /** Orderly shutdown: delete the volatile records (components, replicas) in one transaction. */
  clearVolatile(): Promise<void>;
  close(): Promise<void>;
}
