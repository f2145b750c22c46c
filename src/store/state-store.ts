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
  PatchApplicationRecord,
  PatchEditionRecord,
  PatchSessionRecord,
  ReplicaRecord,
  StateBatch,
  TokenRecord,
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
  /**
   * Patch sessions of every node, newest first (by `id` descending, then node in code-point order),
   * at most `limit` (default 20).
   *
   * @throws BadRequestError (STW-1006) when `limit` is not a whole number ≥ 0.
   * @example await store.listPatchSessions(1) // → the newest session (of the first node, by name)
   */
  listPatchSessions(limit?: number): Promise<PatchSessionRecord[]>;
  /**
   * Session `id` of `node`, if there is one.
   *
   * @throws BadRequestError (STW-1006) when `id` is not a whole number ≥ 1.
   */
  readPatchSession(id: number, node: string): Promise<PatchSessionRecord | undefined>;
  /**
   * Patches applied in session `filter.session` on `filter.node` (each when given), ordered by
   * session, then `seq` (then node and patch id in code-point order).
   *
   * @throws BadRequestError (STW-1006) when `filter.session` is not a whole number ≥ 1.
   */
  listPatchApplications(filter?: { session?: number; node?: string }): Promise<PatchApplicationRecord[]>;
  /** What each edition holds, of `node` (every node when omitted), by node, then edition (code points). */
  listPatchEditions(node?: string): Promise<PatchEditionRecord[]>;
  /** Every API token (revoked ones too), by name in code-point order. */
  listTokens(): Promise<TokenRecord[]>;
  /** Apply every change of `batch` in one transaction. */
  commit(batch: StateBatch): Promise<void>;
  /**
   * Orderly shutdown: in one transaction, delete the volatile records (components, replicas), the
   * steps of every finished operation, and finished operations beyond the newest `keepOperations`
   * (default 100). Running operations and their steps stay; finished job runs beyond the newest
   * 100 per job are deleted (a run still `running` never is); the maintenance record stays (it outlives a `down`).
   * Patch sessions, patch applications and patch editions all stay: they are history, and what the
   * next `patch` phase reads (an open cycle, what each edition holds) outlives a `down`.
   */
  clearVolatile(keepOperations?: number): Promise<void>;
  close(): Promise<void>;
}
