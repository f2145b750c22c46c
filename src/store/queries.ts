/**
 * @module store/queries
 * Every statement the stores run, written once with kysely's query builder and compiled by the
 * backend's compiler (`./sqlite/sqlite-queries.ts`, `./postgres/pg-queries.ts`). Text is ordered
 * with the backend's byte-order collation (`binary` in SQLite, `"C"` in PostgreSQL) so both list
 * records in the same code-point order, whatever the PostgreSQL database's locale.
 */
import type {
  ExpressionBuilder,
  Kysely,
  OnConflictDatabase,
  OnConflictTables,
  OrderByModifiersCallbackExpression,
} from "kysely";

import { slot, slots, toCompiled, type CompiledStatement, type StoreQuery } from "./query.js";
import type {
  ComponentRow,
  DaemonRow,
  JobRunRow,
  MaintenanceRow,
  OperationRow,
  PatchApplicationRow,
  PatchEditionRow,
  PatchSessionRow,
  ReplicaRow,
  StepRow,
  StoreTables,
  TokenRow,
} from "./schema.js";

type NoValues = Record<string, never>;

/** The statements of a store, compiled for one backend. */
export interface StoreQueries {
  selectDaemon: StoreQuery<NoValues, DaemonRow>;
  upsertDaemon: StoreQuery<DaemonRow>;
  selectComponents: StoreQuery<NoValues, ComponentRow>;
  upsertComponent: StoreQuery<ComponentRow>;
  selectReplicas: StoreQuery<NoValues, ReplicaRow>;
  upsertReplica: StoreQuery<ReplicaRow>;
  deleteReplica: StoreQuery<Pick<ReplicaRow, "component" | "replica_index">>;
  deleteAllReplicas: StoreQuery<NoValues>;
  deleteAllComponents: StoreQuery<NoValues>;
  selectOperations: StoreQuery<NoValues, OperationRow>;
  selectOperationsIn: StoreQuery<Pick<OperationRow, "status">, OperationRow>;
  upsertOperation: StoreQuery<OperationRow>;
  selectSteps: StoreQuery<Pick<StepRow, "operation_id">, StepRow>;
  upsertStep: StoreQuery<StepRow>;
  deleteFinishedSteps: StoreQuery<NoValues>;
  deleteOldOperations: StoreQuery<{ keep: number }>;
  selectJobRuns: StoreQuery<{ limit: number }, JobRunRow>;
  selectJobRunsOf: StoreQuery<{ job: string; limit: number }, JobRunRow>;
  selectRunningJobRuns: StoreQuery<NoValues, JobRunRow>;
  upsertJobRun: StoreQuery<JobRunRow>;
  /** Finished runs of each job beyond its newest `keep` finished ones. */
  deleteOldJobRuns: StoreQuery<{ keep: number }>;
  selectMaintenance: StoreQuery<NoValues, MaintenanceRow>;
  upsertMaintenance: StoreQuery<MaintenanceRow>;
  deleteMaintenance: StoreQuery<NoValues>;
  /** By name (code points). */
  selectTokens: StoreQuery<NoValues, TokenRow>;
  upsertToken: StoreQuery<TokenRow>;
  /** Newest first: by `id` descending, then by node. */
  selectPatchSessions: StoreQuery<{ limit: number }, PatchSessionRow>;
  selectPatchSession: StoreQuery<Pick<PatchSessionRow, "id" | "node">, PatchSessionRow>;
  upsertPatchSession: StoreQuery<PatchSessionRow>;
  /** By session, then seq (then node, then patch id); the three below filter the same list. */
  selectPatchApplications: StoreQuery<NoValues, PatchApplicationRow>;
  selectPatchApplicationsIn: StoreQuery<Pick<PatchApplicationRow, "session">, PatchApplicationRow>;
  selectPatchApplicationsOn: StoreQuery<Pick<PatchApplicationRow, "node">, PatchApplicationRow>;
  selectPatchApplicationsInOn: StoreQuery<Pick<PatchApplicationRow, "session" | "node">, PatchApplicationRow>;
  upsertPatchApplication: StoreQuery<PatchApplicationRow>;
  /** By node, then edition. */
  selectPatchEditions: StoreQuery<NoValues, PatchEditionRow>;
  selectPatchEditionsOn: StoreQuery<Pick<PatchEditionRow, "node">, PatchEditionRow>;
  upsertPatchEdition: StoreQuery<PatchEditionRow>;
}

/** Every column of a row type, checked for completeness by the compiler. */
function columnsOf<R>(all: { [K in keyof R]-?: true }): (keyof R & string)[] {
  return Object.keys(all) as (keyof R & string)[];
}

const DAEMON = columnsOf<DaemonRow>({
  state: true,
  pid: true,
  instance: true,
  boot_kind: true,
  booted_at: true,
  topology_file: true,
  updated_at: true,
});
const COMPONENT = columnsOf<ComponentRow>({ name: true, desired: true, updated_at: true });
const REPLICA = columnsOf<ReplicaRow>({
  component: true,
  replica_index: true,
  state: true,
  pid: true,
  pgid: true,
  start_time: true,
  port: true,
  restarts: true,
  last_exit: true,
  invalidated: true,
  reason: true,
  updated_at: true,
});
const OPERATION = columnsOf<OperationRow>({
  id: true,
  kind: true,
  targets: true,
  plan: true,
  status: true,
  instance: true,
  resumes: true,
  started_at: true,
  finished_at: true,
  error: true,
});
const STEP = columnsOf<StepRow>({
  operation_id: true,
  seq: true,
  phase: true,
  name: true,
  component: true,
  replica_index: true,
  status: true,
  started_at: true,
  finished_at: true,
  detail: true,
});

const JOB_RUN = columnsOf<JobRunRow>({
  id: true,
  job: true,
  trigger: true,
  state: true,
  pid: true,
  pgid: true,
  start_time: true,
  started_at: true,
  finished_at: true,
  exit_code: true,
  signal: true,
  reason: true,
  log_file: true,
});
const MAINTENANCE = columnsOf<MaintenanceRow>({
  components: true,
  paused_schedules: true,
  started_at: true,
  updated_at: true,
});
const TOKEN = columnsOf<TokenRow>({
  name: true,
  hash: true,
  read_only: true,
  created_at: true,
  expires_at: true,
  revoked_at: true,
});

const PATCH_SESSION = columnsOf<PatchSessionRow>({
  id: true,
  node: true,
  kind: true,
  status: true,
  run_edition: true,
  patch_edition: true,
  phases: true,
  plan: true,
  reason: true,
  started_at: true,
  finished_at: true,
  updated_at: true,
});
const PATCH_APPLICATION = columnsOf<PatchApplicationRow>({
  session: true,
  node: true,
  patch_id: true,
  edition: true,
  seq: true,
  kind: true,
  state: true,
  steps_done: true,
  steps_total: true,
  errors_tolerated: true,
  log_dir: true,
  detail: true,
  started_at: true,
  finished_at: true,
});
const PATCH_EDITION = columnsOf<PatchEditionRow>({
  node: true,
  edition: true,
  patches: true,
  needs_resync: true,
  updated_at: true,
});

/** `SET col = excluded.col` for every column of an upsert except its key. */
function fromExcluded<T extends keyof StoreTables>(
  columns: readonly string[],
  key: readonly string[],
): (
  eb: ExpressionBuilder<OnConflictDatabase<StoreTables, T>, OnConflictTables<T>>,
) => Record<string, unknown> {
  // kysely types `excluded.<column>` per literal; the column lists above are typed, this is not.
  return (eb) =>
    Object.fromEntries(
      columns.filter((c) => !key.includes(c)).map((c) => [c, eb.ref(`excluded.${c}` as never)]),
    );
}

/** The statements as compiled text, before they are made runnable. */
export type CompiledQueries = Record<keyof StoreQueries, CompiledStatement>;

/**
 * Builds every statement with `db` (a kysely instance that only compiles) and compiles it. Run by
 * `test/store/queries.test.ts`, which keeps `./compiled-queries.ts` equal to its output.
 *
 * @param collation the byte-order collation of the backend: `binary` (SQLite) or `C` (PostgreSQL).
 */
export function buildQueries(db: Kysely<StoreTables>, collation: string): CompiledQueries {
  const byBytes: OrderByModifiersCallbackExpression = (ob) => ob.collate(collation);
  const byBytesDesc: OrderByModifiersCallbackExpression = (ob) => ob.collate(collation).desc();
  // Ordered once; the filtered listings add their WHERE to these (kysely builders are immutable).
  const applications = db
    .selectFrom("patch_applications")
    .select(PATCH_APPLICATION)
    .orderBy("session")
    .orderBy("seq")
    .orderBy("node", byBytes)
    .orderBy("patch_id", byBytes);
  const editions = db
    .selectFrom("patch_editions")
    .select(PATCH_EDITION)
    .orderBy("node", byBytes)
    .orderBy("edition", byBytes);

  return {
    selectDaemon: toCompiled(db.selectFrom("daemon").select(DAEMON).where("id", "=", 1).compile()),
    upsertDaemon: toCompiled(
      db
        .insertInto("daemon")
        .values({ id: 1, ...slots<DaemonRow>(DAEMON) })
        .onConflict((oc) => oc.column("id").doUpdateSet(fromExcluded<"daemon">(DAEMON, [])))
        .compile(),
    ),
    selectComponents: toCompiled(
      db.selectFrom("components").select(COMPONENT).orderBy("name", byBytes).compile(),
    ),
    upsertComponent: toCompiled(
      db
        .insertInto("components")
        .values(slots<ComponentRow>(COMPONENT))
        .onConflict((oc) => oc.column("name").doUpdateSet(fromExcluded<"components">(COMPONENT, ["name"])))
        .compile(),
    ),
    selectReplicas: toCompiled(
      db
        .selectFrom("replicas")
        .select(REPLICA)
        .orderBy("component", byBytes)
        .orderBy("replica_index")
        .compile(),
    ),
    upsertReplica: toCompiled(
      db
        .insertInto("replicas")
        .values(slots<ReplicaRow>(REPLICA))
        .onConflict((oc) =>
          oc
            .columns(["component", "replica_index"])
            .doUpdateSet(fromExcluded<"replicas">(REPLICA, ["component", "replica_index"])),
        )
        .compile(),
    ),
    deleteReplica: toCompiled(
      db
        .deleteFrom("replicas")
        .where("component", "=", slot<string>("component"))
        .where("replica_index", "=", slot<number>("replica_index"))
        .compile(),
    ),
    deleteAllReplicas: toCompiled(db.deleteFrom("replicas").compile()),
    deleteAllComponents: toCompiled(db.deleteFrom("components").compile()),
    selectOperations: toCompiled(
      db.selectFrom("operations").select(OPERATION).orderBy("started_at").orderBy("id", byBytes).compile(),
    ),
    selectOperationsIn: toCompiled(
      db
        .selectFrom("operations")
        .select(OPERATION)
        .where("status", "=", slot<string>("status"))
        .orderBy("started_at")
        .orderBy("id", byBytes)
        .compile(),
    ),
    upsertOperation: toCompiled(
      db
        .insertInto("operations")
        .values(slots<OperationRow>(OPERATION))
        .onConflict((oc) => oc.column("id").doUpdateSet(fromExcluded<"operations">(OPERATION, ["id"])))
        .compile(),
    ),
    selectSteps: toCompiled(
      db
        .selectFrom("operation_steps")
        .select(STEP)
        .where("operation_id", "=", slot<string>("operation_id"))
        .orderBy("seq")
        .compile(),
    ),
    upsertStep: toCompiled(
      db
        .insertInto("operation_steps")
        .values(slots<StepRow>(STEP))
        .onConflict((oc) =>
          oc
            .columns(["operation_id", "seq"])
            .doUpdateSet(fromExcluded<"operation_steps">(STEP, ["operation_id", "seq"])),
        )
        .compile(),
    ),
    deleteFinishedSteps: toCompiled(
      db
        .deleteFrom("operation_steps")
        .where("operation_id", "in", (eb) =>
          eb.selectFrom("operations").select("id").where("status", "<>", "running"),
        )
        .compile(),
    ),
    deleteOldOperations: toCompiled(
      db
        .deleteFrom("operations")
        .where("status", "<>", "running")
        .where("id", "not in", (eb) =>
          eb
            .selectFrom("operations")
            .select("id")
            .where("status", "<>", "running")
            .orderBy("started_at", "desc")
            .orderBy("id", byBytesDesc)
            .limit(slot<number>("keep")),
        )
        .compile(),
    ),
    selectJobRuns: toCompiled(
      db
        .selectFrom("job_runs")
        .select(JOB_RUN)
        .orderBy("started_at", "desc")
        .orderBy("id", byBytesDesc)
        .limit(slot<number>("limit"))
        .compile(),
    ),
    selectJobRunsOf: toCompiled(
      db
        .selectFrom("job_runs")
        .select(JOB_RUN)
        .where("job", "=", slot<string>("job"))
        .orderBy("started_at", "desc")
        .orderBy("id", byBytesDesc)
        .limit(slot<number>("limit"))
        .compile(),
    ),
    selectRunningJobRuns: toCompiled(
      db
        .selectFrom("job_runs")
        .select(JOB_RUN)
        .where("state", "=", "running")
        .orderBy("started_at")
        .orderBy("id", byBytes)
        .compile(),
    ),
    upsertJobRun: toCompiled(
      db
        .insertInto("job_runs")
        .values(slots<JobRunRow>(JOB_RUN))
        .onConflict((oc) => oc.column("id").doUpdateSet(fromExcluded<"job_runs">(JOB_RUN, ["id"])))
        .compile(),
    ),
    // One statement on both backends: rank each job's finished runs newest first with a window
    // function (SQLite ≥ 3.25, PostgreSQL), delete those ranked beyond `keep`. Running runs stay.
    deleteOldJobRuns: toCompiled(
      db
        .deleteFrom("job_runs")
        .where("id", "in", (eb) =>
          eb
            .selectFrom((sub) =>
              sub
                .selectFrom("job_runs")
                .select((ranked) => [
                  "id",
                  ranked.fn
                    .agg<number>("row_number")
                    .over((ob) =>
                      ob.partitionBy("job").orderBy("started_at", "desc").orderBy("id", byBytesDesc),
                    )
                    .as("recency"),
                ])
                .where("state", "<>", "running")
                .as("ranked"),
            )
            .select("ranked.id")
            .where("ranked.recency", ">", slot<number>("keep")),
        )
        .compile(),
    ),
    selectMaintenance: toCompiled(
      db.selectFrom("maintenance").select(MAINTENANCE).where("id", "=", 1).compile(),
    ),
    upsertMaintenance: toCompiled(
      db
        .insertInto("maintenance")
        .values({ id: 1, ...slots<MaintenanceRow>(MAINTENANCE) })
        .onConflict((oc) => oc.column("id").doUpdateSet(fromExcluded<"maintenance">(MAINTENANCE, [])))
        .compile(),
    ),
    deleteMaintenance: toCompiled(db.deleteFrom("maintenance").compile()),
    selectTokens: toCompiled(db.selectFrom("tokens").select(TOKEN).orderBy("name", byBytes).compile()),
    upsertToken: toCompiled(
      db
        .insertInto("tokens")
        .values(slots<TokenRow>(TOKEN))
        .onConflict((oc) => oc.column("name").doUpdateSet(fromExcluded<"tokens">(TOKEN, ["name"])))
        .compile(),
    ),
    selectPatchSessions: toCompiled(
      db
        .selectFrom("patch_sessions")
        .select(PATCH_SESSION)
        .orderBy("id", "desc")
        .orderBy("node", byBytes)
        .limit(slot<number>("limit"))
        .compile(),
    ),
    selectPatchSession: toCompiled(
      db
        .selectFrom("patch_sessions")
        .select(PATCH_SESSION)
        .where("id", "=", slot<number>("id"))
        .where("node", "=", slot<string>("node"))
        .compile(),
    ),
    upsertPatchSession: toCompiled(
      db
        .insertInto("patch_sessions")
        .values(slots<PatchSessionRow>(PATCH_SESSION))
        .onConflict((oc) =>
          oc
            .columns(["id", "node"])
            .doUpdateSet(fromExcluded<"patch_sessions">(PATCH_SESSION, ["id", "node"])),
        )
        .compile(),
    ),
    selectPatchApplications: toCompiled(applications.compile()),
    selectPatchApplicationsIn: toCompiled(
      applications.where("session", "=", slot<number>("session")).compile(),
    ),
    selectPatchApplicationsOn: toCompiled(applications.where("node", "=", slot<string>("node")).compile()),
    selectPatchApplicationsInOn: toCompiled(
      applications
        .where("session", "=", slot<number>("session"))
        .where("node", "=", slot<string>("node"))
        .compile(),
    ),
    upsertPatchApplication: toCompiled(
      db
        .insertInto("patch_applications")
        .values(slots<PatchApplicationRow>(PATCH_APPLICATION))
        .onConflict((oc) =>
          oc
            .columns(["session", "node", "patch_id"])
            .doUpdateSet(
              fromExcluded<"patch_applications">(PATCH_APPLICATION, ["session", "node", "patch_id"]),
            ),
        )
        .compile(),
    ),
    selectPatchEditions: toCompiled(editions.compile()),
    selectPatchEditionsOn: toCompiled(editions.where("node", "=", slot<string>("node")).compile()),
    upsertPatchEdition: toCompiled(
      db
        .insertInto("patch_editions")
        .values(slots<PatchEditionRow>(PATCH_EDITION))
        .onConflict((oc) =>
          oc
            .columns(["node", "edition"])
            .doUpdateSet(fromExcluded<"patch_editions">(PATCH_EDITION, ["node", "edition"])),
        )
        .compile(),
    ),
  };
}
