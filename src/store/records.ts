/**
 * @module store/records
 * State records (design §4): what the store keeps so that a restarted daemon knows what ran, under
 * which pid, and why it stopped. Timestamps are epoch milliseconds.
 */
import type { ReplicaState } from "../lifecycle/replica-state.js";

export type DaemonState = "active" | "stopped";
export type BootKind = "clean" | "recovered";

export interface DaemonRecord {
  /** `active` while running; `stopped` after an orderly shutdown. A boot that finds `active` means the daemon crashed. */
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
}
