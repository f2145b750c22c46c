/**
 * @module store/state-store
 * The one interface every store implements (SQLite now, PostgreSQL in cluster mode). Methods are
 * async so both backends fit; a batch commits in one transaction, durably (fsync) before it resolves.
 */
import type {
  ComponentRecord,
  DaemonRecord,
  OperationRecord,
  OperationStatus,
  OperationStepRecord,
  ReplicaRecord,
  StateBatch,
} from "./records.js";

export interface StateStore {
  readonly kind: "sqlite" | "postgres";
  /** Where the state lives, for messages (`/srv/shop/.steward/state.db`). */
  readonly location: string;
  readDaemon(): Promise<DaemonRecord | undefined>;
  listComponents(): Promise<ComponentRecord[]>;
  /** Ordered by component, then index. */
  listReplicas(): Promise<ReplicaRecord[]>;
  /** Operations, oldest first (by `startedAt`, then `id`); only those in `status` when given. */
  listOperations(status?: OperationStatus): Promise<OperationRecord[]>;
  /** The steps of one operation, by `seq`. */
  listSteps(operationId: string): Promise<OperationStepRecord[]>;
  /** Apply every change of `batch` in one transaction. */
  commit(batch: StateBatch): Promise<void>;
  /**
   * Orderly shutdown: in one transaction, delete the volatile records (components, replicas), the
   * steps of every finished operation, and finished operations beyond the newest `keepOperations`
   * (default 100). Running operations and their steps stay.
   */
  clearVolatile(keepOperations?: number): Promise<void>;
  close(): Promise<void>;
}
