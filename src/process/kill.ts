/**
 * @module process/kill
 * Signals and termination of a replica's whole process group: the stop signal, the grace, then
 * SIGKILL for everything still alive in the group, grandchildren included (design §3, stop
 * budget steps 4–5).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StopSpec } from "../topology/types.js";
import { existingGroups, groupMembers, isGroupAlive, liveGroups, readStat } from "./proc.js";

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

/** Groups being waited for, each with the callbacks to run once it is empty. */
const waiting = new Map<number, Set<() => void>>();
let polling = false;

/** Every this many rounds, groups that still answer `kill(-pgid, 0)` get a `/proc` scan (zombies). */
const SCAN_EVERY_ROUNDS = 10;

/**
 * One poll loop for every waiter. A round is one `kill(-pgid, 0)` per group (a syscall: ESRCH means
 * not even a zombie is left); only every tenth round scans `/proc`, once for all groups, to tell a
 * group of unreaped zombies from a live one.
 */
async function poll(pollMs: number): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    for (let round = 1; waiting.size > 0; round++) {
      const live =
        round % SCAN_EVERY_ROUNDS === 0 ? liveGroups(waiting.keys()) : existingGroups(waiting.keys());
      for (const [pgid, callbacks] of waiting) {
        if (live.has(pgid)) continue;
        waiting.delete(pgid);
        for (const done of callbacks) done();
      }
      if (waiting.size > 0) await sleep(pollMs);
    }
  } finally {
    polling = false;
  }
}

/**
 * Polls until no live (non-zombie) process remains in group `pgid`. Concurrent waits share one
 * poll loop.
 * @returns true when the group is empty, false when `timeoutMs` passed first.
 * @param pollMs @default 10
 */
export function waitGroupExit(pgid: number, timeoutMs: number, pollMs = 10): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const callbacks = waiting.get(pgid) ?? new Set<() => void>();
    waiting.set(pgid, callbacks);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      callbacks.delete(done);
      if (callbacks.size === 0 && waiting.get(pgid) === callbacks) waiting.delete(pgid);
      resolve(!isGroupAlive(pgid));
    }, timeoutMs);
    callbacks.add(done);
    void poll(pollMs);
  });
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
