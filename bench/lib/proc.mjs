// Observing programs through /proc, the same way for every system (see bench/README.md): a program
// is one of ours when its executable is the expected one and its environment holds our tag; it
// runs when /proc/<pid> exists and is not a zombie.
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** The environment variable set only in the benchmarked programs' environment. */
export const TAG_VAR = "STEWARD_BENCH_TAG";

/** The one-letter state of /proc/<pid>/stat (R, S, Z…), undefined when there is no such process. */
export function procState(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return s[s.lastIndexOf(")") + 2];
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused pid apart. */
export function procStartTime(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return undefined;
  }
}

export function listPids() {
  return fs
    .readdirSync("/proc")
    .filter((d) => d.charCodeAt(0) >= 48 && d.charCodeAt(0) <= 57)
    .map(Number);
}

export function alive(pid) {
  const st = procState(pid);
  return st !== undefined && st !== "Z" && st !== "X";
}

/** Alive, and still the process that had `startTime` (not a reused pid). */
export function sameProcessAlive(pid, startTime) {
  return alive(pid) && procStartTime(pid) === startTime;
}

export function vmRssMB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Waits until `pid` is gone (a zombie counts as gone). */
export async function waitGone(pid, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (alive(pid)) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** The live programs carrying one tag. */
export class Census {
  /** @param exe the executable as /proc/<pid>/exe shows it (realpath). */
  constructor(tag, exe) {
    this.exe = exe;
    this.needle = Buffer.from(`${TAG_VAR}=${tag}\0`);
    this.ours = new Set();
    this.settled = new Set();
  }
  isOurs(pid) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== this.exe) return false;
      return fs.readFileSync(`/proc/${pid}/environ`).includes(this.needle);
    } catch {
      return false;
    }
  }
  /** Before a measurement: everything that is not ours now is never looked at again. */
  reset() {
    this.ours.clear();
    this.settled.clear();
    for (const pid of listPids()) (this.isOurs(pid) ? this.ours : this.settled).add(pid);
  }
  /** Live programs of ours. New pids that are not ours yet are re-checked (they may not have exec'd). */
  scan() {
    for (const pid of listPids()) {
      if (this.ours.has(pid) || this.settled.has(pid)) continue;
      if (this.isOurs(pid)) this.ours.add(pid);
    }
    let live = 0;
    for (const pid of this.ours) {
      const st = procState(pid);
      if (st === undefined || st === "Z" || st === "X") this.ours.delete(pid);
      else live++;
    }
    return live;
  }
  /** The pids of the live programs of ours (after a scan). */
  livePids() {
    this.scan();
    return [...this.ours];
  }
  async waitFor(what, pred, timeoutMs = 60_000) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const n = this.scan();
      if (pred(n)) return n;
      if (performance.now() > deadline)
        throw new Error(`timed out waiting until ${what} (${n} of ours alive)`);
      await sleep(5);
    }
  }
  /**
   * Waits until our programs have finished booting (their CPU time stops growing for 300 ms), so a
   * stop signal finds the SIGTERM handler installed, whatever system started them.
   */
  async settle(maxMs = 20_000) {
    const deadline = performance.now() + maxMs;
    let prev = -1;
    let stable = 0;
    while (performance.now() < deadline && stable < 3) {
      this.scan();
      let ticks = 0;
      for (const pid of this.ours) {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
          const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          ticks += Number(f[11]) + Number(f[12]); // utime + stime
        } catch {
          // gone
        }
      }
      stable = ticks === prev ? stable + 1 : 0;
      prev = ticks;
      await sleep(100);
    }
  }
  /** SIGKILLs whatever of ours is still alive (cleanup after an error); returns how many it signalled. */
  killAll() {
    this.scan();
    let n = 0;
    for (const pid of this.ours) {
      try {
        process.kill(pid, "SIGKILL");
        n++;
      } catch {
        // already gone
      }
    }
    return n;
  }
}

/**
 * SIGKILLs every process (but this one) whose command line or environment contains one of
 * `markers` — strings only what this benchmark started can hold, such as its own mkdtemp
 * directory or its programs' tag — and returns their pids. The last line of defence after an
 * interruption, when a command in flight may still have started a daemon.
 */
export function sweep(markers) {
  const needles = markers.map((m) => Buffer.from(m));
  const killed = [];
  for (const pid of listPids()) {
    if (pid === process.pid || !alive(pid)) continue;
    const hit = ["cmdline", "environ"].some((f) => {
      try {
        const b = fs.readFileSync(`/proc/${pid}/${f}`);
        return needles.some((n) => b.includes(n));
      } catch {
        return false;
      }
    });
    if (!hit) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // gone
    }
  }
  return killed;
}

/** `sweep` until two passes 200 ms apart find nothing (at most `maxMs`); returns every pid killed. */
export async function sweepUntilQuiet(markers, maxMs = 5_000) {
  const all = [];
  const deadline = performance.now() + maxMs;
  let quiet = 0;
  while (quiet < 2 && performance.now() < deadline) {
    const k = sweep(markers);
    all.push(...k);
    quiet = k.length === 0 ? quiet + 1 : 0;
    await sleep(200);
  }
  return all;
}
