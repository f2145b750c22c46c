/**
 * @module store/rows
 * State records ↔ table rows, the same for SQLite and PostgreSQL: booleans as 0/1, `lastExit`,
 * `targets`, `plan`, the maintenance record's lists and the patch records' phases, cutover plan and
 * patch lists as JSON text, absent values as NULL. A nullable field given as `undefined` is stored as
 * NULL; a required one left empty is refused by the table's NOT NULL constraint, which rolls the
 * whole batch back. A JSON value that is not what its record says becomes NULL, refused the same way.
 */
import type { ReplicaState } from "../lifecycle/replica-state.js";
import type {
  BootKind,
  ComponentRecord,
  DaemonRecord,
  DaemonState,
  DesiredState,
  ExitRecord,
  JobRunRecord,
  JobRunState,
  MaintenanceRecord,
  OperationKind,
  OperationPhase,
  OperationRecord,
  OperationStatus,
  OperationStepRecord,
  PatchApplicationRecord,
  PatchApplicationState,
  PatchEditionRecord,
  PatchPhase,
  PatchPhaseRecord,
  PatchSessionRecord,
  PatchSessionStatus,
  CutoverPlanRecord,
  ReplicaRecord,
  StepName,
  StepStatus,
  TokenRecord,
} from "./records.js";
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
  TokenRow,
} from "./schema.js";

/** Whether `x` is a list of names (strings). */
const isNames = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === "string");

/** A list of names → JSON text; anything else → NULL, which the NOT NULL constraint refuses. */
function namesToJson(value: unknown): string | null {
  return isNames(value) ? JSON.stringify(value) : null;
}

/** Parses a JSON list of names; throws a plain `Error` naming `what` when it is not one. */
function jsonToNames(text: string | null, what: string): string[] {
  let value: unknown = null;
  try {
    if (text !== null) value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} are not JSON (${(err as Error).message}): ${text}`);
  }
  if (!isNames(value)) throw new Error(`${what} are not a list of names: ${text}`);
  return value;
}

/** `true`/`false` → 1/0; anything else → NULL, which the NOT NULL constraint refuses. */
function toFlag(value: unknown): number | null {
  return value === true ? 1 : value === false ? 0 : null;
}

export function daemonToRow(d: DaemonRecord): DaemonRow {
  return {
    state: d.state,
    pid: d.pid,
    instance: d.instance,
    boot_kind: d.bootKind,
    booted_at: d.bootedAt,
    topology_file: d.topologyFile,
    updated_at: d.updatedAt,
  };
}

export function rowToDaemon(r: DaemonRow): DaemonRecord {
  return {
    state: r.state as DaemonState,
    pid: r.pid,
    instance: r.instance,
    bootKind: r.boot_kind as BootKind,
    bootedAt: r.booted_at,
    topologyFile: r.topology_file,
    updatedAt: r.updated_at,
  };
}

export function componentToRow(c: ComponentRecord): ComponentRow {
  return { name: c.name, desired: c.desired, updated_at: c.updatedAt };
}

export function rowToComponent(r: ComponentRow): ComponentRecord {
  return { name: r.name, desired: r.desired as DesiredState, updatedAt: r.updated_at };
}

/** JSON with a fixed key order, so equal exits are equal text. */
export function exitToJson(e: ExitRecord | null | undefined): string | null {
  if (e === null || e === undefined) return null;
  const ordered: ExitRecord = {
    exitCode: e.exitCode,
    signal: e.signal,
    reason: e.reason,
    forced: e.forced,
    durationMs: e.durationMs,
    at: e.at,
  };
  return JSON.stringify(ordered);
}

/** Parses `last_exit`; throws a plain `Error` saying what is wrong (the caller adds the location). */
export function jsonToExit(text: string | null): ExitRecord | null {
  if (text === null) return null;
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null) throw new Error("not a JSON object");
  const o = v as Record<string, unknown>;
  const nullableNumber = (x: unknown): x is number | null => x === null || typeof x === "number";
  const nullableString = (x: unknown): x is string | null => x === null || typeof x === "string";
  if (
    !nullableNumber(o.exitCode) ||
    !nullableString(o.signal) ||
    typeof o.reason !== "string" ||
    typeof o.forced !== "boolean" ||
    typeof o.durationMs !== "number" ||
    typeof o.at !== "number"
  ) {
    throw new Error(`not an exit record: ${text}`);
  }
  return {
    exitCode: o.exitCode,
    signal: o.signal,
    reason: o.reason,
    forced: o.forced,
    durationMs: o.durationMs,
    at: o.at,
  };
}

export function replicaToRow(r: ReplicaRecord): ReplicaRow {
  return {
    component: r.component,
    replica_index: r.index,
    state: r.state,
    pid: r.pid ?? null,
    pgid: r.pgid ?? null,
    start_time: r.startTime ?? null,
    port: r.port ?? null,
    restarts: r.restarts,
    last_exit: exitToJson(r.lastExit),
    invalidated: toFlag(r.invalidated),
    reason: r.reason ?? null,
    updated_at: r.updatedAt,
  };
}

export function rowToReplica(r: ReplicaRow): ReplicaRecord {
  return {
    component: r.component,
    index: r.replica_index,
    state: r.state as ReplicaState,
    pid: r.pid,
    pgid: r.pgid,
    startTime: r.start_time,
    port: r.port,
    restarts: r.restarts,
    lastExit: jsonToExit(r.last_exit),
    invalidated: r.invalidated === 1,
    reason: r.reason,
    updatedAt: r.updated_at,
  };
}

export function operationToRow(o: OperationRecord): OperationRow {
  return {
    id: o.id,
    kind: o.kind,
    targets: JSON.stringify(o.targets),
    plan: JSON.stringify(o.plan.map((p) => ({ action: p.action, components: p.components }))),
    status: o.status,
    instance: o.instance,
    resumes: o.resumes,
    started_at: o.startedAt,
    finished_at: o.finishedAt ?? null,
    error: o.error ?? null,
  };
}

/** Parses an operation row; throws a plain `Error` saying what is wrong (the caller adds the location). */
export function rowToOperation(r: OperationRow): OperationRecord {
  const targets: unknown = JSON.parse(r.targets);
  const plan: unknown = JSON.parse(r.plan);
  if (!isNames(targets)) throw new Error(`targets are not a list of names: ${r.targets}`);
  if (
    !Array.isArray(plan) ||
    !plan.every(
      (p: unknown) =>
        typeof p === "object" &&
        p !== null &&
        ["start", "stop", "replace", "cutover"].includes((p as OperationPhase).action) &&
        isNames((p as OperationPhase).components),
    )
  )
    throw new Error(`plan is not a list of phases: ${r.plan}`);
  return {
    id: r.id,
    kind: r.kind as OperationKind,
    targets,
    plan: plan as OperationPhase[],
    status: r.status as OperationStatus,
    instance: r.instance,
    resumes: r.resumes,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

export function stepToRow(s: OperationStepRecord): StepRow {
  return {
    operation_id: s.operationId,
    seq: s.seq,
    phase: s.phase,
    name: s.name,
    component: s.component,
    replica_index: s.index ?? null,
    status: s.status,
    started_at: s.startedAt,
    finished_at: s.finishedAt ?? null,
    detail: s.detail ?? null,
  };
}

export function rowToStep(r: StepRow): OperationStepRecord {
  return {
    operationId: r.operation_id,
    seq: r.seq,
    phase: r.phase,
    name: r.name as StepName,
    component: r.component,
    index: r.replica_index,
    status: r.status as StepStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    detail: r.detail,
  };
}

export function jobRunToRow(j: JobRunRecord): JobRunRow {
  return {
    id: j.id,
    job: j.job,
    trigger: j.trigger,
    state: j.state,
    pid: j.pid ?? null,
    pgid: j.pgid ?? null,
    start_time: j.startTime ?? null,
    started_at: j.startedAt,
    finished_at: j.finishedAt ?? null,
    exit_code: j.exitCode ?? null,
    signal: j.signal ?? null,
    reason: j.reason ?? null,
    log_file: j.logFile,
  };
}

export function rowToJobRun(r: JobRunRow): JobRunRecord {
  return {
    id: r.id,
    job: r.job,
    trigger: r.trigger as JobRunRecord["trigger"],
    state: r.state as JobRunState,
    pid: r.pid,
    pgid: r.pgid,
    startTime: r.start_time,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    exitCode: r.exit_code,
    signal: r.signal,
    reason: r.reason,
    logFile: r.log_file,
  };
}

/** Lists that are not lists of names become NULL, which the table refuses (NOT NULL). */
export function maintenanceToRow(m: MaintenanceRecord): MaintenanceRow {
  return {
    components: namesToJson(m.components),
    paused_schedules: namesToJson(m.pausedSchedules),
    started_at: m.startedAt,
    updated_at: m.updatedAt,
  };
}

/** Parses the maintenance row; throws a plain `Error` saying what is wrong (the caller adds the location). */
export function rowToMaintenance(r: MaintenanceRow): MaintenanceRecord {
  return {
    components: jsonToNames(r.components, "components"),
    pausedSchedules: jsonToNames(r.paused_schedules, "paused schedules"),
    startedAt: r.started_at,
    updatedAt: r.updated_at,
  };
}

/** The phases in cycle order; a session's phases are written in this order. */
const PATCH_PHASES: readonly PatchPhase[] = [
  "prepare",
  "apply",
  "finalize",
  "cutover",
  "cleanup",
  "abort",
  "fs-clone",
];
const PHASE_STATES: readonly string[] = ["running", "done", "failed"];
const PLAN_MODES: readonly string[] = ["switch", "restart"];

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);
const isTime = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isOptionalTime = (x: unknown): x is number | null | undefined =>
  x === null || x === undefined || isTime(x);
const isOptionalText = (x: unknown): x is string | null | undefined =>
  x === null || x === undefined || typeof x === "string";

/** `value` as a phase record with its fields in a fixed order, or `undefined` when it is not one. */
function toPhaseRecord(value: unknown): PatchPhaseRecord | undefined {
  if (!isObject(value)) return undefined;
  const { state, startedAt, finishedAt, detail, operationId } = value;
  if (
    typeof state !== "string" ||
    !PHASE_STATES.includes(state) ||
    !isTime(startedAt) ||
    !isOptionalTime(finishedAt) ||
    !isOptionalText(detail) ||
    !isOptionalText(operationId)
  )
    return undefined;
  return {
    state: state as PatchPhaseRecord["state"],
    startedAt,
    finishedAt: finishedAt ?? null,
    detail: detail ?? null,
    operationId: operationId ?? null,
  };
}

/**
 * `value` as a session's phases, in `PATCH_PHASES` order (a phase given as `undefined` is left out),
 * or `undefined` when it is not an object of known phases → phase records.
 */
function toPhases(value: unknown): PatchSessionRecord["phases"] | undefined {
  if (!isObject(value)) return undefined;
  const known: readonly string[] = PATCH_PHASES;
  if (Object.entries(value).some(([k, v]) => v !== undefined && !known.includes(k))) return undefined;
  const phases: PatchSessionRecord["phases"] = {};
  for (const phase of PATCH_PHASES) {
    if (value[phase] === undefined) continue;
    const record = toPhaseRecord(value[phase]);
    if (record === undefined) return undefined;
    phases[phase] = record;
  }
  return phases;
}

/** `value` as a cutover plan in a fixed key order, `null` for none, `undefined` when it is not one. */
function toPlan(value: unknown): CutoverPlanRecord | null | undefined {
  if (value === null || value === undefined) return null;
  if (!isObject(value) || !Array.isArray(value.components) || !isTime(value.computedAt)) return undefined;
  const components: CutoverPlanRecord["components"] = [];
  for (const c of value.components as unknown[]) {
    if (!isObject(c) || typeof c.name !== "string" || typeof c.mode !== "string") return undefined;
    if (!PLAN_MODES.includes(c.mode)) return undefined;
    components.push({ name: c.name, mode: c.mode as "switch" | "restart" });
  }
  return { components, computedAt: value.computedAt };
}

/** Parses JSON text; throws a plain `Error` naming `what` when it is not JSON. */
function parseJson(text: string | null, what: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what}: not JSON (${(err as Error).message}): ${text}`);
  }
}

/** Phases and plan as JSON text; a value that is not what the record says → NULL (NOT NULL refuses). */
export function patchSessionToRow(p: PatchSessionRecord): PatchSessionRow {
  const phases = toPhases(p.phases);
  const plan = toPlan(p.plan);
  return {
    id: p.id,
    node: p.node,
    kind: p.kind,
    status: p.status,
    run_edition: p.runEdition,
    patch_edition: p.patchEdition,
    phases: phases === undefined ? null : JSON.stringify(phases),
    plan: plan === undefined ? null : JSON.stringify(plan),
    reason: p.reason ?? null,
    started_at: p.startedAt,
    finished_at: p.finishedAt ?? null,
    updated_at: p.updatedAt,
  };
}

/** Parses a patch session row; throws a plain `Error` saying what is wrong (the caller adds the location). */
export function rowToPatchSession(r: PatchSessionRow): PatchSessionRecord {
  const phases = toPhases(parseJson(r.phases, "phases"));
  if (phases === undefined) throw new Error(`phases are not a map of patch phases: ${r.phases}`);
  const plan = toPlan(parseJson(r.plan, "plan"));
  if (plan === undefined) throw new Error(`plan is not a cutover plan: ${r.plan}`);
  return {
    id: r.id,
    node: r.node,
    kind: r.kind as PatchSessionRecord["kind"],
    status: r.status as PatchSessionStatus,
    runEdition: r.run_edition,
    patchEdition: r.patch_edition,
    phases,
    plan,
    reason: r.reason,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

export function patchApplicationToRow(a: PatchApplicationRecord): PatchApplicationRow {
  return {
    session: a.session,
    node: a.node,
    patch_id: a.patchId,
    edition: a.edition,
    seq: a.seq,
    kind: a.kind,
    state: a.state,
    steps_done: a.stepsDone,
    steps_total: a.stepsTotal,
    errors_tolerated: toFlag(a.errorsTolerated),
    log_dir: a.logDir,
    detail: a.detail ?? null,
    started_at: a.startedAt,
    finished_at: a.finishedAt ?? null,
  };
}

export function rowToPatchApplication(r: PatchApplicationRow): PatchApplicationRecord {
  return {
    session: r.session,
    node: r.node,
    patchId: r.patch_id,
    edition: r.edition,
    seq: r.seq,
    kind: r.kind as PatchApplicationRecord["kind"],
    state: r.state as PatchApplicationState,
    stepsDone: r.steps_done,
    stepsTotal: r.steps_total,
    errorsTolerated: r.errors_tolerated === 1,
    logDir: r.log_dir,
    detail: r.detail,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A patch list that is not a list of ids becomes NULL, which the table refuses (NOT NULL). */
export function patchEditionToRow(e: PatchEditionRecord): PatchEditionRow {
  return {
    node: e.node,
    edition: e.edition,
    patches: namesToJson(e.patches),
    needs_resync: toFlag(e.needsResync),
    updated_at: e.updatedAt,
  };
}

/** Parses a patch edition row; throws a plain `Error` saying what is wrong (the caller adds the location). */
export function rowToPatchEdition(r: PatchEditionRow): PatchEditionRecord {
  return {
    node: r.node,
    edition: r.edition,
    patches: jsonToNames(r.patches, "patches"),
    needsResync: r.needs_resync === 1,
    updatedAt: r.updated_at,
  };
}

export function tokenToRow(t: TokenRecord): TokenRow {
  return {
    name: t.name,
    hash: t.hash,
    read_only: toFlag(t.readOnly),
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    revoked_at: t.revokedAt,
  };
}

export function rowToToken(r: TokenRow): TokenRecord {
  return {
    name: r.name,
    hash: r.hash,
    readOnly: r.read_only === 1,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}
