/**
 * @module store/records
 * State records (design §4): what the store keeps so that a restarted daemon knows what ran, under
 * which pid, and why it stopped; and the history of online patching (design §6): sessions, the
 * patches each applied, what each edition holds. Timestamps are epoch milliseconds.
 */
import type { ReplicaState } from "../lifecycle/replica-state.js";

/** `handover`: the daemon exited for `steward daemon restart`, leaving the application running. */
export type DaemonState = "active" | "stopped" | "handover";
/** `recovered`: the previous daemon crashed; `handover`: it handed over on `steward daemon restart`. */
export type BootKind = "clean" | "recovered" | "handover";

export interface DaemonRecord {
  /**
   * `active` while running; `stopped` after an orderly shutdown; `handover` after `daemon restart`.
   * A boot that finds `active` means the daemon crashed.
   */
  state: DaemonState;
  pid: number;
  /** 100 at first boot, +1 after each crash, reset by orderly shutdown. */
  instance: number;
  bootKind: BootKind;
  bootedAt: number;
  topologyFile: string;
  updatedAt: number;
}

/** What the operator asked for a component, so recovery knows whether it should run. */
export type DesiredState = "running" | "stopped" | "offline";

export interface ComponentRecord {
  name: string;
  desired: DesiredState;
  updatedAt: number;
}

/** How a replica's process ended. The reason is written when the signal is sent, never inferred. */
export interface ExitRecord {
  exitCode: number | null;
  signal: string | null;
  /** e.g. `exited`, `stop requested`, `grace expired: SIGKILL`, `spawn failed: ENOENT`. */
  reason: string;
  /** True when the group had to be SIGKILLed. */
  forced: boolean;
  durationMs: number;
  at: number;
}

export interface ReplicaRecord {
  component: string;
  /** 0-based replica index. */
  index: number;
  state: ReplicaState;
  pid: number | null;
  /** Process group id (= pid: each replica leads its own session). */
  pgid: number | null;
  /** Process start time in clock ticks since boot (`/proc/<pid>/stat` field 22): tells a reused pid apart. */
  startTime: number | null;
  /** Port allocated for `${port}`, if the component uses one. */
  port: number | null;
  restarts: number;
  lastExit: ExitRecord | null;
  /** The last stop had to SIGKILL; `recover` runs before the next start. */
  invalidated: boolean;
  /** Why the replica is in its state, for an operator (`not ready within 5s: tcp 7001: ECONNREFUSED`). */
  reason: string | null;
  updatedAt: number;
}

/** Changes that belong together; a store commits a batch in one transaction. */
export interface StateBatch {
  daemon?: DaemonRecord;
  components?: ComponentRecord[];
  replicas?: ReplicaRecord[];
  deleteReplicas?: { component: string; index: number }[];
  /** Upserts by `id`. */
  operations?: OperationRecord[];
  /** Upserts by `(operationId, seq)`. */
  steps?: OperationStepRecord[];
  /** Upserts by `id`. */
  jobRuns?: JobRunRecord[];
  /** Upserts by `(id, node)`. */
  patchSessions?: PatchSessionRecord[];
  /** Upserts by `(session, node, patchId)`. */
  patchApplications?: PatchApplicationRecord[];
  /** Upserts by `(node, edition)`. */
  patchEditions?: PatchEditionRecord[];
  /** The maintenance record to write; `null` deletes it (maintenance off). */
  maintenance?: MaintenanceRecord | null;
  /** Upserts by `name` (a revocation writes the record again with `revokedAt`). */
  tokens?: TokenRecord[];
}

/**
 * An API token of the remote listener (design §8). `hash` is the hex SHA-256 of the token's secret;
 * the token itself is shown once, at creation, and stored nowhere by the daemon.
 */
export interface TokenRecord {
  name: string;
  hash: string;
  /** Can read everything and change nothing. */
  readOnly: boolean;
  createdAt: number;
  /** Epoch ms after which the token is refused; null: never expires. */
  expiresAt: number | null;
  /** Epoch ms of `token revoke`; null while the token is valid. */
  revokedAt: number | null;
}

/** Multi-step lifecycle actions journaled step by step (design §1 "operation"). */
export type OperationKind =
  "up" | "start" | "stop" | "restart" | "down" | "maintenance-on" | "maintenance-off" | "cutover";
export type OperationStatus = "running" | "done" | "failed";

/**
 * One phase of an operation's plan: what it does to which components, in order. `restart` is
 * `[stop, start]`; `down` is `[stop]` over every component. Resume skips phases already done.
 */
export interface OperationPhase {
  /**
   * `replace`: a rolling restart, one replica at a time (stop it, start it, ready, next).
   * `cutover`: a patch cycle's cutover (patching/cutover), its steps named below.
   */
  action: "start" | "stop" | "replace" | "cutover";
  components: string[];
}

/** An operation: written when it begins, updated when it ends; `running` after a crash means resume it. */
export interface OperationRecord {
  /** `op-<instance>-<startedAt>-<n>`: unique, and sorts in start order within a daemon instance. */
  id: string;
  kind: OperationKind;
  /** Component names as the operator gave them (empty: all). */
  targets: string[];
  plan: OperationPhase[];
  status: OperationStatus;
  /** The instance count of the daemon that started it. */
  instance: number;
  /** How many times a restarted daemon resumed it. */
  resumes: number;
  startedAt: number;
  finishedAt: number | null;
  /** Why it failed, for an operator. */
  error: string | null;
}

/** What a step does: a whole component in one phase, or one step of a replica's stop budget. */
export type StepName =
  | "replace"
  | "start"
  | "stop"
  | "stop-routing"
  | "wait-in-flight"
  | "drain-hook"
  | "signal"
  | "grace"
  | "kill"
  // cutover (patching/cutover)
  | "wait-jobs"
  | "start-new"
  | "restart-on-new"
  | "switch"
  | "retire-old"
  | "stop-all"
  | "swap-links"
  | "rollback";
export type StepStatus = "running" | "done" | "failed";

/**
 * One journaled step: written (`running`) before it runs and again (`done`/`failed`) after it
 * finishes. A step still `running` after a crash may or may not have happened: it runs again.
 */
export interface OperationStepRecord {
  operationId: string;
  /** 1, 2, 3… within the operation, in the order steps began. */
  seq: number;
  /** Index into the operation's `plan`. */
  phase: number;
  name: StepName;
  component: string;
  /** The replica for a stop-budget step; null for a component step. */
  index: number | null;
  status: StepStatus;
  startedAt: number;
  finishedAt: number | null;
  /** A short note for an operator (`pid 4242`, `exited with 3`); null when there is none. */
  detail: string | null;
}

/** How a job run ended, or that it still runs. `lost`: it ended while no daemon watched it. */
export type JobRunState = "running" | "succeeded" | "failed" | "cancelled" | "lost";

/** One run of a job (design §1 "job"), written when it starts and again when it ends. */
export interface JobRunRecord {
  /** `run-<job>-<startedAt base36>-<n>`: unique, sorts in start order per job. */
  id: string;
  job: string;
  trigger: "manual" | "schedule";
  state: JobRunState;
  pid: number | null;
  pgid: number | null;
  /** `/proc/<pid>/stat` start time, to re-adopt a run across a daemon crash. */
  startTime: number | null;
  startedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Why it ended as it did (`exited with code 3`, `cancelled by maintenance`), for an operator. */
  reason: string | null;
  /** Absolute path of the run's log file. */
  logFile: string;
}

/**
 * Maintenance mode (design §3), one record while it is on: what it took offline and which job
 * schedules it paused, so `maintenance off` restores exactly that — also after a daemon crash.
 */
export interface MaintenanceRecord {
  /** Components taken offline, in the order they were stopped. */
  components: string[];
  /** Jobs whose schedule was active and is paused until `maintenance off`. */
  pausedSchedules: string[];
  startedAt: number;
  updatedAt: number;
}

/** The phases of a patch cycle, plus the two that run outside one. */
export type PatchPhase = "prepare" | "apply" | "finalize" | "cutover" | "cleanup" | "abort" | "fs-clone";
export type PatchPhaseState = "running" | "done" | "failed";

/** One phase of a patch session on one node: written when it starts and again when it ends. */
export interface PatchPhaseRecord {
  state: PatchPhaseState;
  startedAt: number;
  finishedAt: number | null;
  /** What happened, for `patch status`: "3 patches applied", or the failure with its log path. */
  detail: string | null;
  /** The journaled operation that ran it (cutover), when there is one. */
  operationId: string | null;
}

/** open: a cycle in progress; cutover-rolled-back: still open (cutover can be retried, or abort); completed: cut over; aborted. */
export type PatchSessionStatus = "open" | "cutover-rolled-back" | "completed" | "aborted";

/** What `finalize` decided cutover will do with each component, in start order. */
export interface CutoverPlanRecord {
  components: { name: string; mode: "switch" | "restart" }[];
  computedAt: number;
}

/**
 * A patch session (design §6) on one node: a patch cycle from `prepare` to `cutover` (or `abort`),
 * or a stand-alone `fs-clone`. Written when it opens and at every phase change; kept as history.
 */
export interface PatchSessionRecord {
  /** Session id: 1, 2, 3… (the caller takes the highest id + 1). */
  id: number;
  node: string;
  /** `cycle` (prepare … cutover) or a stand-alone `fs-clone`. */
  kind: "cycle" | "fs-clone";
  status: PatchSessionStatus;
  /** Edition directory names (`fs1` / `fs2`) when the session opened. */
  runEdition: string;
  patchEdition: string;
  phases: Partial<Record<PatchPhase, PatchPhaseRecord>>;
  plan: CutoverPlanRecord | null;
  reason: string | null;
  startedAt: number;
  finishedAt: number | null;
  updatedAt: number;
}

export type PatchApplicationState = "running" | "done" | "failed";

/** One patch applied (or being applied) to an edition within a session. */
export interface PatchApplicationRecord {
  session: number;
  node: string;
  patchId: string;
  /** Edition directory name it was applied to (`fs2`). */
  edition: string;
  /** Order within the session, from 1. */
  seq: number;
  /** `sync`: replayed by prepare; `apply`: by `patch apply`. */
  kind: "sync" | "apply";
  state: PatchApplicationState;
  /** Steps completed so far: a re-run resumes after them. */
  stepsDone: number;
  stepsTotal: number;
  /** Applied with errors tolerated (`prepare --skip-sync-errors`). */
  errorsTolerated: boolean;
  logDir: string;
  detail: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** What one edition directory holds, per node. */
export interface PatchEditionRecord {
  node: string;
  /** `fs1` or `fs2`. */
  edition: string;
  /** Ids of the patches the edition holds, in the order they were applied. */
  patches: string[];
  /** Set by abort: the next prepare must resynchronise this edition fully. */
  needsResync: boolean;
  updatedAt: number;
}
