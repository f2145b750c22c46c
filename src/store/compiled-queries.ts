/**
 * @module store/compiled-queries
 * GENERATED from ./queries.ts (kysely) — do not edit. `test/store/queries.test.ts` fails when this
 * file differs from a fresh compile; regenerate with
 * `STEWARD_WRITE_QUERIES=1 npx vitest run test/store/queries.test.ts`.
 */
import type { CompiledQueries } from "./queries.js";

export const SQLITE: CompiledQueries = {
  selectDaemon: {
    sql: 'select "state", "pid", "instance", "boot_kind", "booted_at", "topology_file", "updated_at" from "daemon" where "id" = ?',
    parameters: [
      {
        value: 1,
      },
    ],
  },
  upsertDaemon: {
    sql: 'insert into "daemon" ("id", "state", "pid", "instance", "boot_kind", "booted_at", "topology_file", "updated_at") values (?, ?, ?, ?, ?, ?, ?, ?) on conflict ("id") do update set "state" = "excluded"."state", "pid" = "excluded"."pid", "instance" = "excluded"."instance", "boot_kind" = "excluded"."boot_kind", "booted_at" = "excluded"."booted_at", "topology_file" = "excluded"."topology_file", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        value: 1,
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "instance",
      },
      {
        slot: "boot_kind",
      },
      {
        slot: "booted_at",
      },
      {
        slot: "topology_file",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectComponents: {
    sql: 'select "name", "desired", "updated_at" from "components" order by "name" collate "binary"',
    parameters: [],
  },
  upsertComponent: {
    sql: 'insert into "components" ("name", "desired", "updated_at") values (?, ?, ?) on conflict ("name") do update set "desired" = "excluded"."desired", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "name",
      },
      {
        slot: "desired",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectReplicas: {
    sql: 'select "component", "replica_index", "state", "pid", "pgid", "start_time", "port", "restarts", "last_exit", "invalidated", "reason", "updated_at" from "replicas" order by "component" collate "binary", "replica_index"',
    parameters: [],
  },
  upsertReplica: {
    sql: 'insert into "replicas" ("component", "replica_index", "state", "pid", "pgid", "start_time", "port", "restarts", "last_exit", "invalidated", "reason", "updated_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("component", "replica_index") do update set "state" = "excluded"."state", "pid" = "excluded"."pid", "pgid" = "excluded"."pgid", "start_time" = "excluded"."start_time", "port" = "excluded"."port", "restarts" = "excluded"."restarts", "last_exit" = "excluded"."last_exit", "invalidated" = "excluded"."invalidated", "reason" = "excluded"."reason", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "pgid",
      },
      {
        slot: "start_time",
      },
      {
        slot: "port",
      },
      {
        slot: "restarts",
      },
      {
        slot: "last_exit",
      },
      {
        slot: "invalidated",
      },
      {
        slot: "reason",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  deleteReplica: {
    sql: 'delete from "replicas" where "component" = ? and "replica_index" = ?',
    parameters: [
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
    ],
  },
  deleteAllReplicas: {
    sql: 'delete from "replicas"',
    parameters: [],
  },
  deleteAllComponents: {
    sql: 'delete from "components"',
    parameters: [],
  },
  selectOperations: {
    sql: 'select "id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error" from "operations" order by "started_at", "id" collate "binary"',
    parameters: [],
  },
  selectOperationsIn: {
    sql: 'select "id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error" from "operations" where "status" = ? order by "started_at", "id" collate "binary"',
    parameters: [
      {
        slot: "status",
      },
    ],
  },
  upsertOperation: {
    sql: 'insert into "operations" ("id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("id") do update set "kind" = "excluded"."kind", "targets" = "excluded"."targets", "plan" = "excluded"."plan", "status" = "excluded"."status", "instance" = "excluded"."instance", "resumes" = "excluded"."resumes", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "error" = "excluded"."error"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "kind",
      },
      {
        slot: "targets",
      },
      {
        slot: "plan",
      },
      {
        slot: "status",
      },
      {
        slot: "instance",
      },
      {
        slot: "resumes",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "error",
      },
    ],
  },
  selectSteps: {
    sql: 'select "operation_id", "seq", "phase", "name", "component", "replica_index", "status", "started_at", "finished_at", "detail" from "operation_steps" where "operation_id" = ? order by "seq"',
    parameters: [
      {
        slot: "operation_id",
      },
    ],
  },
  upsertStep: {
    sql: 'insert into "operation_steps" ("operation_id", "seq", "phase", "name", "component", "replica_index", "status", "started_at", "finished_at", "detail") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("operation_id", "seq") do update set "phase" = "excluded"."phase", "name" = "excluded"."name", "component" = "excluded"."component", "replica_index" = "excluded"."replica_index", "status" = "excluded"."status", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "detail" = "excluded"."detail"',
    parameters: [
      {
        slot: "operation_id",
      },
      {
        slot: "seq",
      },
      {
        slot: "phase",
      },
      {
        slot: "name",
      },
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
      {
        slot: "status",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "detail",
      },
    ],
  },
  deleteFinishedSteps: {
    sql: 'delete from "operation_steps" where "operation_id" in (select "id" from "operations" where "status" <> ?)',
    parameters: [
      {
        value: "running",
      },
    ],
  },
  deleteOldOperations: {
    sql: 'delete from "operations" where "status" <> ? and "id" not in (select "id" from "operations" where "status" <> ? order by "started_at" desc, "id" collate "binary" desc limit ?)',
    parameters: [
      {
        value: "running",
      },
      {
        value: "running",
      },
      {
        slot: "keep",
      },
    ],
  },
  selectJobRuns: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" order by "started_at" desc, "id" collate "binary" desc limit ?',
    parameters: [
      {
        slot: "limit",
      },
    ],
  },
  selectJobRunsOf: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" where "job" = ? order by "started_at" desc, "id" collate "binary" desc limit ?',
    parameters: [
      {
        slot: "job",
      },
      {
        slot: "limit",
      },
    ],
  },
  selectRunningJobRuns: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" where "state" = ? order by "started_at", "id" collate "binary"',
    parameters: [
      {
        value: "running",
      },
    ],
  },
  upsertJobRun: {
    sql: 'insert into "job_runs" ("id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("id") do update set "job" = "excluded"."job", "trigger" = "excluded"."trigger", "state" = "excluded"."state", "pid" = "excluded"."pid", "pgid" = "excluded"."pgid", "start_time" = "excluded"."start_time", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "exit_code" = "excluded"."exit_code", "signal" = "excluded"."signal", "reason" = "excluded"."reason", "log_file" = "excluded"."log_file"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "job",
      },
      {
        slot: "trigger",
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "pgid",
      },
      {
        slot: "start_time",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "exit_code",
      },
      {
        slot: "signal",
      },
      {
        slot: "reason",
      },
      {
        slot: "log_file",
      },
    ],
  },
  deleteOldJobRuns: {
    sql: 'delete from "job_runs" where "id" in (select "ranked"."id" from (select "id", row_number() over(partition by "job" order by "started_at" desc, "id" collate "binary" desc) as "recency" from "job_runs" where "state" <> ?) as "ranked" where "ranked"."recency" > ?)',
    parameters: [
      {
        value: "running",
      },
      {
        slot: "keep",
      },
    ],
  },
  selectMaintenance: {
    sql: 'select "components", "paused_schedules", "started_at", "updated_at" from "maintenance" where "id" = ?',
    parameters: [
      {
        value: 1,
      },
    ],
  },
  upsertMaintenance: {
    sql: 'insert into "maintenance" ("id", "components", "paused_schedules", "started_at", "updated_at") values (?, ?, ?, ?, ?) on conflict ("id") do update set "components" = "excluded"."components", "paused_schedules" = "excluded"."paused_schedules", "started_at" = "excluded"."started_at", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        value: 1,
      },
      {
        slot: "components",
      },
      {
        slot: "paused_schedules",
      },
      {
        slot: "started_at",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  deleteMaintenance: {
    sql: 'delete from "maintenance"',
    parameters: [],
  },
  selectTokens: {
    sql: 'select "name", "hash", "read_only", "created_at", "expires_at", "revoked_at" from "tokens" order by "name" collate "binary"',
    parameters: [],
  },
  upsertToken: {
    sql: 'insert into "tokens" ("name", "hash", "read_only", "created_at", "expires_at", "revoked_at") values (?, ?, ?, ?, ?, ?) on conflict ("name") do update set "hash" = "excluded"."hash", "read_only" = "excluded"."read_only", "created_at" = "excluded"."created_at", "expires_at" = "excluded"."expires_at", "revoked_at" = "excluded"."revoked_at"',
    parameters: [
      {
        slot: "name",
      },
      {
        slot: "hash",
      },
      {
        slot: "read_only",
      },
      {
        slot: "created_at",
      },
      {
        slot: "expires_at",
      },
      {
        slot: "revoked_at",
      },
    ],
  },
  selectPatchSessions: {
    sql: 'select "id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at" from "patch_sessions" order by "id" desc, "node" collate "binary" limit ?',
    parameters: [
      {
        slot: "limit",
      },
    ],
  },
  selectPatchSession: {
    sql: 'select "id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at" from "patch_sessions" where "id" = ? and "node" = ?',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "node",
      },
    ],
  },
  upsertPatchSession: {
    sql: 'insert into "patch_sessions" ("id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("id", "node") do update set "kind" = "excluded"."kind", "status" = "excluded"."status", "run_edition" = "excluded"."run_edition", "patch_edition" = "excluded"."patch_edition", "phases" = "excluded"."phases", "plan" = "excluded"."plan", "reason" = "excluded"."reason", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "node",
      },
      {
        slot: "kind",
      },
      {
        slot: "status",
      },
      {
        slot: "run_edition",
      },
      {
        slot: "patch_edition",
      },
      {
        slot: "phases",
      },
      {
        slot: "plan",
      },
      {
        slot: "reason",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectPatchApplications: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" order by "session", "seq", "node" collate "binary", "patch_id" collate "binary"',
    parameters: [],
  },
  selectPatchApplicationsIn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "session" = ? order by "session", "seq", "node" collate "binary", "patch_id" collate "binary"',
    parameters: [
      {
        slot: "session",
      },
    ],
  },
  selectPatchApplicationsOn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "node" = ? order by "session", "seq", "node" collate "binary", "patch_id" collate "binary"',
    parameters: [
      {
        slot: "node",
      },
    ],
  },
  selectPatchApplicationsInOn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "session" = ? and "node" = ? order by "session", "seq", "node" collate "binary", "patch_id" collate "binary"',
    parameters: [
      {
        slot: "session",
      },
      {
        slot: "node",
      },
    ],
  },
  upsertPatchApplication: {
    sql: 'insert into "patch_applications" ("session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict ("session", "node", "patch_id") do update set "edition" = "excluded"."edition", "seq" = "excluded"."seq", "kind" = "excluded"."kind", "state" = "excluded"."state", "steps_done" = "excluded"."steps_done", "steps_total" = "excluded"."steps_total", "errors_tolerated" = "excluded"."errors_tolerated", "log_dir" = "excluded"."log_dir", "detail" = "excluded"."detail", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at"',
    parameters: [
      {
        slot: "session",
      },
      {
        slot: "node",
      },
      {
        slot: "patch_id",
      },
      {
        slot: "edition",
      },
      {
        slot: "seq",
      },
      {
        slot: "kind",
      },
      {
        slot: "state",
      },
      {
        slot: "steps_done",
      },
      {
        slot: "steps_total",
      },
      {
        slot: "errors_tolerated",
      },
      {
        slot: "log_dir",
      },
      {
        slot: "detail",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
    ],
  },
  selectPatchEditions: {
    sql: 'select "node", "edition", "patches", "needs_resync", "updated_at" from "patch_editions" order by "node" collate "binary", "edition" collate "binary"',
    parameters: [],
  },
  selectPatchEditionsOn: {
    sql: 'select "node", "edition", "patches", "needs_resync", "updated_at" from "patch_editions" where "node" = ? order by "node" collate "binary", "edition" collate "binary"',
    parameters: [
      {
        slot: "node",
      },
    ],
  },
  upsertPatchEdition: {
    sql: 'insert into "patch_editions" ("node", "edition", "patches", "needs_resync", "updated_at") values (?, ?, ?, ?, ?) on conflict ("node", "edition") do update set "patches" = "excluded"."patches", "needs_resync" = "excluded"."needs_resync", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "node",
      },
      {
        slot: "edition",
      },
      {
        slot: "patches",
      },
      {
        slot: "needs_resync",
      },
      {
        slot: "updated_at",
      },
    ],
  },
};

export const POSTGRES: CompiledQueries = {
  selectDaemon: {
    sql: 'select "state", "pid", "instance", "boot_kind", "booted_at", "topology_file", "updated_at" from "daemon" where "id" = $1',
    parameters: [
      {
        value: 1,
      },
    ],
  },
  upsertDaemon: {
    sql: 'insert into "daemon" ("id", "state", "pid", "instance", "boot_kind", "booted_at", "topology_file", "updated_at") values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict ("id") do update set "state" = "excluded"."state", "pid" = "excluded"."pid", "instance" = "excluded"."instance", "boot_kind" = "excluded"."boot_kind", "booted_at" = "excluded"."booted_at", "topology_file" = "excluded"."topology_file", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        value: 1,
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "instance",
      },
      {
        slot: "boot_kind",
      },
      {
        slot: "booted_at",
      },
      {
        slot: "topology_file",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectComponents: {
    sql: 'select "name", "desired", "updated_at" from "components" order by "name" collate "C"',
    parameters: [],
  },
  upsertComponent: {
    sql: 'insert into "components" ("name", "desired", "updated_at") values ($1, $2, $3) on conflict ("name") do update set "desired" = "excluded"."desired", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "name",
      },
      {
        slot: "desired",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectReplicas: {
    sql: 'select "component", "replica_index", "state", "pid", "pgid", "start_time", "port", "restarts", "last_exit", "invalidated", "reason", "updated_at" from "replicas" order by "component" collate "C", "replica_index"',
    parameters: [],
  },
  upsertReplica: {
    sql: 'insert into "replicas" ("component", "replica_index", "state", "pid", "pgid", "start_time", "port", "restarts", "last_exit", "invalidated", "reason", "updated_at") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict ("component", "replica_index") do update set "state" = "excluded"."state", "pid" = "excluded"."pid", "pgid" = "excluded"."pgid", "start_time" = "excluded"."start_time", "port" = "excluded"."port", "restarts" = "excluded"."restarts", "last_exit" = "excluded"."last_exit", "invalidated" = "excluded"."invalidated", "reason" = "excluded"."reason", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "pgid",
      },
      {
        slot: "start_time",
      },
      {
        slot: "port",
      },
      {
        slot: "restarts",
      },
      {
        slot: "last_exit",
      },
      {
        slot: "invalidated",
      },
      {
        slot: "reason",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  deleteReplica: {
    sql: 'delete from "replicas" where "component" = $1 and "replica_index" = $2',
    parameters: [
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
    ],
  },
  deleteAllReplicas: {
    sql: 'delete from "replicas"',
    parameters: [],
  },
  deleteAllComponents: {
    sql: 'delete from "components"',
    parameters: [],
  },
  selectOperations: {
    sql: 'select "id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error" from "operations" order by "started_at", "id" collate "C"',
    parameters: [],
  },
  selectOperationsIn: {
    sql: 'select "id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error" from "operations" where "status" = $1 order by "started_at", "id" collate "C"',
    parameters: [
      {
        slot: "status",
      },
    ],
  },
  upsertOperation: {
    sql: 'insert into "operations" ("id", "kind", "targets", "plan", "status", "instance", "resumes", "started_at", "finished_at", "error") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict ("id") do update set "kind" = "excluded"."kind", "targets" = "excluded"."targets", "plan" = "excluded"."plan", "status" = "excluded"."status", "instance" = "excluded"."instance", "resumes" = "excluded"."resumes", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "error" = "excluded"."error"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "kind",
      },
      {
        slot: "targets",
      },
      {
        slot: "plan",
      },
      {
        slot: "status",
      },
      {
        slot: "instance",
      },
      {
        slot: "resumes",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "error",
      },
    ],
  },
  selectSteps: {
    sql: 'select "operation_id", "seq", "phase", "name", "component", "replica_index", "status", "started_at", "finished_at", "detail" from "operation_steps" where "operation_id" = $1 order by "seq"',
    parameters: [
      {
        slot: "operation_id",
      },
    ],
  },
  upsertStep: {
    sql: 'insert into "operation_steps" ("operation_id", "seq", "phase", "name", "component", "replica_index", "status", "started_at", "finished_at", "detail") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict ("operation_id", "seq") do update set "phase" = "excluded"."phase", "name" = "excluded"."name", "component" = "excluded"."component", "replica_index" = "excluded"."replica_index", "status" = "excluded"."status", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "detail" = "excluded"."detail"',
    parameters: [
      {
        slot: "operation_id",
      },
      {
        slot: "seq",
      },
      {
        slot: "phase",
      },
      {
        slot: "name",
      },
      {
        slot: "component",
      },
      {
        slot: "replica_index",
      },
      {
        slot: "status",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "detail",
      },
    ],
  },
  deleteFinishedSteps: {
    sql: 'delete from "operation_steps" where "operation_id" in (select "id" from "operations" where "status" <> $1)',
    parameters: [
      {
        value: "running",
      },
    ],
  },
  deleteOldOperations: {
    sql: 'delete from "operations" where "status" <> $1 and "id" not in (select "id" from "operations" where "status" <> $2 order by "started_at" desc, "id" collate "C" desc limit $3)',
    parameters: [
      {
        value: "running",
      },
      {
        value: "running",
      },
      {
        slot: "keep",
      },
    ],
  },
  selectJobRuns: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" order by "started_at" desc, "id" collate "C" desc limit $1',
    parameters: [
      {
        slot: "limit",
      },
    ],
  },
  selectJobRunsOf: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" where "job" = $1 order by "started_at" desc, "id" collate "C" desc limit $2',
    parameters: [
      {
        slot: "job",
      },
      {
        slot: "limit",
      },
    ],
  },
  selectRunningJobRuns: {
    sql: 'select "id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file" from "job_runs" where "state" = $1 order by "started_at", "id" collate "C"',
    parameters: [
      {
        value: "running",
      },
    ],
  },
  upsertJobRun: {
    sql: 'insert into "job_runs" ("id", "job", "trigger", "state", "pid", "pgid", "start_time", "started_at", "finished_at", "exit_code", "signal", "reason", "log_file") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) on conflict ("id") do update set "job" = "excluded"."job", "trigger" = "excluded"."trigger", "state" = "excluded"."state", "pid" = "excluded"."pid", "pgid" = "excluded"."pgid", "start_time" = "excluded"."start_time", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "exit_code" = "excluded"."exit_code", "signal" = "excluded"."signal", "reason" = "excluded"."reason", "log_file" = "excluded"."log_file"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "job",
      },
      {
        slot: "trigger",
      },
      {
        slot: "state",
      },
      {
        slot: "pid",
      },
      {
        slot: "pgid",
      },
      {
        slot: "start_time",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "exit_code",
      },
      {
        slot: "signal",
      },
      {
        slot: "reason",
      },
      {
        slot: "log_file",
      },
    ],
  },
  deleteOldJobRuns: {
    sql: 'delete from "job_runs" where "id" in (select "ranked"."id" from (select "id", row_number() over(partition by "job" order by "started_at" desc, "id" collate "C" desc) as "recency" from "job_runs" where "state" <> $1) as "ranked" where "ranked"."recency" > $2)',
    parameters: [
      {
        value: "running",
      },
      {
        slot: "keep",
      },
    ],
  },
  selectMaintenance: {
    sql: 'select "components", "paused_schedules", "started_at", "updated_at" from "maintenance" where "id" = $1',
    parameters: [
      {
        value: 1,
      },
    ],
  },
  upsertMaintenance: {
    sql: 'insert into "maintenance" ("id", "components", "paused_schedules", "started_at", "updated_at") values ($1, $2, $3, $4, $5) on conflict ("id") do update set "components" = "excluded"."components", "paused_schedules" = "excluded"."paused_schedules", "started_at" = "excluded"."started_at", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        value: 1,
      },
      {
        slot: "components",
      },
      {
        slot: "paused_schedules",
      },
      {
        slot: "started_at",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  deleteMaintenance: {
    sql: 'delete from "maintenance"',
    parameters: [],
  },
  selectTokens: {
    sql: 'select "name", "hash", "read_only", "created_at", "expires_at", "revoked_at" from "tokens" order by "name" collate "C"',
    parameters: [],
  },
  upsertToken: {
    sql: 'insert into "tokens" ("name", "hash", "read_only", "created_at", "expires_at", "revoked_at") values ($1, $2, $3, $4, $5, $6) on conflict ("name") do update set "hash" = "excluded"."hash", "read_only" = "excluded"."read_only", "created_at" = "excluded"."created_at", "expires_at" = "excluded"."expires_at", "revoked_at" = "excluded"."revoked_at"',
    parameters: [
      {
        slot: "name",
      },
      {
        slot: "hash",
      },
      {
        slot: "read_only",
      },
      {
        slot: "created_at",
      },
      {
        slot: "expires_at",
      },
      {
        slot: "revoked_at",
      },
    ],
  },
  selectPatchSessions: {
    sql: 'select "id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at" from "patch_sessions" order by "id" desc, "node" collate "C" limit $1',
    parameters: [
      {
        slot: "limit",
      },
    ],
  },
  selectPatchSession: {
    sql: 'select "id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at" from "patch_sessions" where "id" = $1 and "node" = $2',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "node",
      },
    ],
  },
  upsertPatchSession: {
    sql: 'insert into "patch_sessions" ("id", "node", "kind", "status", "run_edition", "patch_edition", "phases", "plan", "reason", "started_at", "finished_at", "updated_at") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict ("id", "node") do update set "kind" = "excluded"."kind", "status" = "excluded"."status", "run_edition" = "excluded"."run_edition", "patch_edition" = "excluded"."patch_edition", "phases" = "excluded"."phases", "plan" = "excluded"."plan", "reason" = "excluded"."reason", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "id",
      },
      {
        slot: "node",
      },
      {
        slot: "kind",
      },
      {
        slot: "status",
      },
      {
        slot: "run_edition",
      },
      {
        slot: "patch_edition",
      },
      {
        slot: "phases",
      },
      {
        slot: "plan",
      },
      {
        slot: "reason",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
      {
        slot: "updated_at",
      },
    ],
  },
  selectPatchApplications: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" order by "session", "seq", "node" collate "C", "patch_id" collate "C"',
    parameters: [],
  },
  selectPatchApplicationsIn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "session" = $1 order by "session", "seq", "node" collate "C", "patch_id" collate "C"',
    parameters: [
      {
        slot: "session",
      },
    ],
  },
  selectPatchApplicationsOn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "node" = $1 order by "session", "seq", "node" collate "C", "patch_id" collate "C"',
    parameters: [
      {
        slot: "node",
      },
    ],
  },
  selectPatchApplicationsInOn: {
    sql: 'select "session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at" from "patch_applications" where "session" = $1 and "node" = $2 order by "session", "seq", "node" collate "C", "patch_id" collate "C"',
    parameters: [
      {
        slot: "session",
      },
      {
        slot: "node",
      },
    ],
  },
  upsertPatchApplication: {
    sql: 'insert into "patch_applications" ("session", "node", "patch_id", "edition", "seq", "kind", "state", "steps_done", "steps_total", "errors_tolerated", "log_dir", "detail", "started_at", "finished_at") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) on conflict ("session", "node", "patch_id") do update set "edition" = "excluded"."edition", "seq" = "excluded"."seq", "kind" = "excluded"."kind", "state" = "excluded"."state", "steps_done" = "excluded"."steps_done", "steps_total" = "excluded"."steps_total", "errors_tolerated" = "excluded"."errors_tolerated", "log_dir" = "excluded"."log_dir", "detail" = "excluded"."detail", "started_at" = "excluded"."started_at", "finished_at" = "excluded"."finished_at"',
    parameters: [
      {
        slot: "session",
      },
      {
        slot: "node",
      },
      {
        slot: "patch_id",
      },
      {
        slot: "edition",
      },
      {
        slot: "seq",
      },
      {
        slot: "kind",
      },
      {
        slot: "state",
      },
      {
        slot: "steps_done",
      },
      {
        slot: "steps_total",
      },
      {
        slot: "errors_tolerated",
      },
      {
        slot: "log_dir",
      },
      {
        slot: "detail",
      },
      {
        slot: "started_at",
      },
      {
        slot: "finished_at",
      },
    ],
  },
  selectPatchEditions: {
    sql: 'select "node", "edition", "patches", "needs_resync", "updated_at" from "patch_editions" order by "node" collate "C", "edition" collate "C"',
    parameters: [],
  },
  selectPatchEditionsOn: {
    sql: 'select "node", "edition", "patches", "needs_resync", "updated_at" from "patch_editions" where "node" = $1 order by "node" collate "C", "edition" collate "C"',
    parameters: [
      {
        slot: "node",
      },
    ],
  },
  upsertPatchEdition: {
    sql: 'insert into "patch_editions" ("node", "edition", "patches", "needs_resync", "updated_at") values ($1, $2, $3, $4, $5) on conflict ("node", "edition") do update set "patches" = "excluded"."patches", "needs_resync" = "excluded"."needs_resync", "updated_at" = "excluded"."updated_at"',
    parameters: [
      {
        slot: "node",
      },
      {
        slot: "edition",
      },
      {
        slot: "patches",
      },
      {
        slot: "needs_resync",
      },
      {
        slot: "updated_at",
      },
    ],
  },
};
