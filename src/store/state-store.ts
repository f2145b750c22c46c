/**
 * @module store/state-store
 * The one interface every store implements (SQLite now, PostgreSQL in cluster mode). Methods are
 * async so both backends fit; a batch commits in one transaction, durably (fsync) before it resolves.
 */
import type {
  ComponentRecord,
  DaemonRecord,
  JobRunRecord,
  MaintenanceRecord,
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
  /** Runs of `job` (all jobs when omitted), newest first, at most `limit` (default 20). */
  listJobRuns(job?: string, limit?: number): Promise<JobRunRecord[]>;
  /** Runs still `running`: what a recovering daemon must re-adopt or mark `lost`. */
  listRunningJobRuns(): Promise<JobRunRecord[]>;
  /** The maintenance record, when maintenance is on. */
  readMaintenance(): Promise<MaintenanceRecord | undefined>;
  /** Apply every change of `batch` in one transaction. */
  commit(batch: StateBatch): Promise<void>;
  /**
   * Orderly shutdown: in one transaction, delete the volatile records (components, replicas), the
   * steps of every finished operation, and finished operations beyond the newest `keepOperations`
   * (default 100). Running operations and their steps stay; finished job runs beyond the newest
   * 100 per job are deleted (a run still `running` never is); the maintenance record stays (it outlives a `down`).
   */
  clearVolatile(keepOperations?: number): Promise<void>;
  close(): Promise<void>;
}
