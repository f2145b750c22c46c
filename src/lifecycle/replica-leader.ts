/**
 * @module lifecycle/replica-leader
 * A replica's main process, its **leader**: spawned by this daemon (its exit is an `exit` event,
 * with code and signal) or re-adopted from a previous daemon (its exit is found by polling, status
 * unknown). Either way `exit` resolves once, and `onExit` hears of it once.
 */
import type { ChildProcess } from "node:child_process";
import { watchExit } from "../process/index.js";
import type { ExitRecord } from "../store/records.js";

export interface LeaderExit {
  exitCode: number | null;
  signal: string | null;
}

export interface Leader {
  pid: number;
  exited: boolean;
  exit: Promise<LeaderExit>;
}

/** What a replica's record says of its process once its leader is gone. */
export const GONE = { pid: null, pgid: null, startTime: null } as const;

type OnExit = (leader: Leader, exitCode: number | null, signal: string | null) => void;

/** The leader this daemon spawned as `child`. */
export function spawnedLeader(pid: number, child: ChildProcess, onExit: OnExit): Leader {
  const leader: Leader = { pid, exited: false, exit: Promise.resolve({ exitCode: null, signal: null }) };
  leader.exit = new Promise<LeaderExit>((resolve) => {
    child.once("exit", (exitCode, signal) => {
      leader.exited = true;
      resolve({ exitCode, signal });
      onExit(leader, exitCode, signal);
    });
  });
  child.on("error", () => {}); // spawn errors were resolved before spawning; exit follows any other
  return leader;
}

/** A leader taken over from a previous daemon, not (yet) watched: `watch` polls for its exit. */
export function adoptedLeader(pid: number): Leader {
  return { pid, exited: false, exit: Promise.resolve({ exitCode: null, signal: null }) };
}

/** Poll an adopted leader (same pid and start time) until it exits. */
export function watchLeader(leader: Leader, startTime: number, onExit: OnExit): void {
  leader.exit = new Promise<LeaderExit>((resolve) => {
    watchExit(leader.pid, startTime, () => {
      leader.exited = true;
      resolve({ exitCode: null, signal: null });
      onExit(leader, null, null);
    });
  });
}

/** The exit record of a leader that exited on its own (no stop asked for it). */
export function ownExit(
  exitCode: number | null,
  signal: string | null,
  spawnedAt: number,
  beforeReady: boolean,
): ExitRecord {
  const how = signal
    ? `killed by ${signal}`
    : exitCode !== null
      ? `exited with code ${exitCode}`
      : "exited (status unknown: it was not a child of this daemon)";
  return {
    exitCode,
    signal,
    reason: beforeReady ? `exited before it was ready (${how})` : how,
    forced: false,
    durationMs: Date.now() - spawnedAt,
    at: Date.now(),
  };
}
