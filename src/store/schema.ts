/**
 * @module store/schema
 * The tables of the store as kysely sees them, one row type per table, shared by both backends. The
 * DDL lives in `./migrations/` (portable SQL); these types must match it. Booleans are INTEGER 0/1,
 * JSON is TEXT, timestamps are BIGINT epoch milliseconds (read back as numbers on both backends).
 */

export interface DaemonRow {
  state: string;
  pid: number;
  instance: number;
  boot_kind: string;
  booted_at: number;
  topology_file: string;
  updated_at: number;
}

export interface ComponentRow {
  name: string;
  desired: string;
  updated_at: number;
}

export interface ReplicaRow {
  component: string;
  replica_index: number;
  state: string;
  pid: number | null;
  pgid: number | null;
  start_time: number | null;
  port: number | null;
  restarts: number;
  /** An `ExitRecord` as JSON text. */
  last_exit: string | null;
  /** 0/1; null only for a value that was not a boolean, which NOT NULL refuses. */
  invalidated: number | null;
  reason: string | null;
  updated_at: number;
}

export interface OperationRow {
  id: string;
  kind: string;
  /** JSON list of component names. */
  targets: string;
  /** JSON list of `OperationPhase`. */
  plan: string;
  status: string;
  instance: number;
  resumes: number;
  started_at: number;
  finished_at: number | null;
  error: string | null;
}

export interface StepRow {
  operation_id: string;
  seq: number;
  phase: number;
  name: string;
  component: string;
  replica_index: number | null;
  status: string;
  started_at: number;
  finished_at: number | null;
  detail: string | null;
}

export interface JobRunRow {
  id: string;
  job: string;
  trigger: string;
  state: string;
  pid: number | null;
  pgid: number | null;
  start_time: number | null;
  started_at: number;
  finished_at: number | null;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  log_file: string;
}

/** The one maintenance row (`id = 1`), present while maintenance is on. */
export interface MaintenanceRow {
  /**
   * JSON list of component names, in the order they were taken offline; null only for a value that
   * was not a list of names, which NOT NULL refuses.
   */
  components: string | null;
  /** JSON list of job names; null as for `components`. */
  paused_schedules: string | null;
  started_at: number;
  updated_at: number;
}

/** A `PatchSessionRecord` of one node. */
export interface PatchSessionRow {
  id: number;
  node: string;
  kind: string;
  status: string;
  run_edition: string;
  patch_edition: string;
  /**
   * JSON object of phase → `PatchPhaseRecord`; null only for a value that was not one, which NOT
   * NULL refuses.
   */
  phases: string | null;
  /**
   * JSON: the `CutoverPlanRecord`, or `null` (JSON text) before finalize; SQL NULL only for a value
   * that was neither, which NOT NULL refuses.
   */
  plan: string | null;
  reason: string | null;
  started_at: number;
  finished_at: number | null;
  updated_at: number;
}

export interface PatchApplicationRow {
  session: number;
  node: string;
  patch_id: string;
  edition: string;
  seq: number;
  kind: string;
  state: string;
  steps_done: number;
  steps_total: number;
  /** 0/1; null only for a value that was not a boolean, which NOT NULL refuses. */
  errors_tolerated: number | null;
  log_dir: string;
  detail: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface PatchEditionRow {
  node: string;
  edition: string;
  /** JSON list of patch ids in the order applied; null only for a value that was not one (NOT NULL). */
  patches: string | null;
  /** 0/1; null as for `errors_tolerated`. */
  needs_resync: number | null;
  updated_at: number;
}

/** A `TokenRecord`: the digest of an API token, never the token. */
export interface TokenRow {
  name: string;
  hash: string;
  /** 0/1; null only for a value that was not a boolean, which NOT NULL refuses. */
  read_only: number | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface SchemaMigrationRow {
  version: number;
  name: string;
  applied_at: number;
}

/** Every table, for `Kysely<StoreTables>`. The daemon and maintenance tables hold one row, `id = 1`. */
export interface StoreTables {
  daemon: DaemonRow & { id: number };
  components: ComponentRow;
  replicas: ReplicaRow;
  operations: OperationRow;
  operation_steps: StepRow;
  job_runs: JobRunRow;
  maintenance: MaintenanceRow & { id: number };
  patch_sessions: PatchSessionRow;
  patch_applications: PatchApplicationRow;
  patch_editions: PatchEditionRow;
  tokens: TokenRow;
  schema_migrations: SchemaMigrationRow;
}
