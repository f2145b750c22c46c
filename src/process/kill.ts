/**
 * @module process/kill
 * Signals and termination of a replica's whole process group: the stop signal, the grace, then
 * SIGKILL for everything still alive in the group, grandchildren included (design §3, stop
 * budget steps 4–5).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StopSpec } from "../topology/types.js";
import { groupMembers, isGroupAlive, readStat } from "./proc.js";

let ownGroup: number | undefined;

function assertSignalable(pgid: number): void {
  // kill(0) and kill(-1) would hit our own group or every process we may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`refusing to signal process group ${pgid}`);
  ownGroup ??= readStat(process.pid)?.pgrp;
  if (pgid === ownGroup)
    throw new RangeError(`refusing to signal process group ${pgid}: it is the daemon's own`);
}

/**
 * Sends `signal` to every process in group `pgid`. Returns false when the group no longer exists
 * (ESRCH is not an error). Refuses group 0, 1 and the caller's own group.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  assertSignalable(pgid);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * Polls until no live (non-zombie) process remains in group `pgid`.
 * @returns true when the group is empty, false when `timeoutMs` passed first.
 * @param pollMs @default 10
 */
export async function waitGroupExit(pgid: number, timeoutMs: number, pollMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(pollMs, left));
  }
}

export interface TerminateOptions extends Pick<StopSpec, "signal" | "graceMs"> {
  /** How long to wait for the group to vanish after SIGKILL. @default 10000 */
  killWaitMs?: number;
}

/** How a termination went; `forced` means the group had to be SIGKILLed (the replica is invalidated). */
export interface TerminateResult {
  forced: boolean;
  durationMs: number;
  /** Pids still alive after SIGKILL and `killWaitMs` (normally empty; a process stuck in `D` state). */
  survivors: number[];
}

/**
 * Sends `signal` to the group, waits `graceMs` for it to empty, then SIGKILLs whatever is left
 * in the group and waits until it is gone.
 *
 * @example await terminateGroup(replica.pgid, { signal: "SIGTERM", graceMs: 30_000 }) // { forced: false, durationMs: 12, survivors: [] }
 */
export async function terminateGroup(pgid: number, opts: TerminateOptions): Promise<TerminateResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  signalGroup(pgid, opts.signal);
  if (await waitGroupExit(pgid, opts.graceMs)) return { forced: false, durationMs: elapsed(), survivors: [] };
  signalGroup(pgid, "SIGKILL");
  const gone = await waitGroupExit(pgid, opts.killWaitMs ?? 10_000);
  return { forced: true, durationMs: elapsed(), survivors: gone ? [] : groupMembers(pgid) };
}
