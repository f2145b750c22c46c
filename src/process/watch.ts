/**
 * @module process/watch
 * Exit detection for a process that is not the daemon's child — a replica re-adopted after a
 * daemon crash — where no `exit` event will come. One poll loop serves every watched pid: a
 * `kill(pid, 0)` every 100 ms (ESRCH: gone), and every tenth round a `/proc/<pid>/stat` read that
 * also tells a zombie, or a pid reused by another program, from the live process. Detection
 * latency: ≤ 100 ms, ≤ 1 s for a zombie whose new parent is slow to reap it. The exit status of
 * such a process is unknown.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "./proc.js";

const POLL_MS = 100;
const STAT_EVERY_ROUNDS = 10;

interface Watched {
  startTime: number;
  onExit: () => void;
}

const watched = new Map<number, Watched>();
let polling = false;

function gone(pid: number, w: Watched, deep: boolean): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return true;
  }
  return deep && !isAlive(pid, w.startTime);
}

async function poll(): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    for (let round = 1; watched.size > 0; round++) {
      await sleep(POLL_MS);
      for (const [pid, w] of watched) {
        if (!gone(pid, w, round % STAT_EVERY_ROUNDS === 0)) continue;
        watched.delete(pid);
        w.onExit();
      }
    }
  } finally {
    polling = false;
  }
}

/** Calls `onExit` once `pid` (started at `startTime`) has exited; returns the function that stops watching. */
export function watchExit(pid: number, startTime: number, onExit: () => void): () => void {
  const w = { startTime, onExit };
  watched.set(pid, w);
  void poll();
  return () => {
    if (watched.get(pid) === w) watched.delete(pid);
  };
}
