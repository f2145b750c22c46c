/**
 * @module process/nofile
 * The daemon's file descriptor limit (`RLIMIT_NOFILE`), the one platform-specific corner of the
 * edge's limits. Node itself raises its soft limit to the hard limit when it starts (node.cc,
 * `PlatformInit`), so the daemon normally finds them equal; this checks it and logs the limit. When
 * the soft limit is lower anyway (lowered from outside, another runtime) it is raised with
 * util-linux's `prlimit --pid <daemon> --nofile=<hard>:<hard>` (Node has no `setrlimit`;
 * util-linux is essential on Debian: always there). Limits are read from `/proc/self/limits`.
 * Elsewhere than Linux, or without `prlimit`, the limit stays as it was and the outcome says why.
 *
 * Replicas started afterwards inherit the raised soft limit.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface NofileLimit {
  soft: number;
  hard: number;
}

/** What `raiseNofileLimit()` did. */
export interface NofileOutcome {
  /** The limit now; undefined when it cannot be read (not Linux). */
  limit: NofileLimit | undefined;
  /** The soft limit before, when it was raised. */
  raisedFrom?: number;
  /** Why it was not raised (already at the hard limit: no reason). */
  problem?: string;
}

/** The largest value `RLIMIT_NOFILE` may take (`fs.nr_open`), for an `unlimited` hard limit. */
function nrOpen(): number {
  try {
    return Number(readFileSync("/proc/sys/fs/nr_open", "utf8").trim()) || 1_048_576;
  } catch {
    return 1_048_576;
  }
}

/**
 * The current limit of this process, from `/proc/self/limits`; undefined where there is none.
 * @example readNofileLimit() // { soft: 1024, hard: 524288 }
 */
export function readNofileLimit(): NofileLimit | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const value = (s: string | undefined): number => (s === "unlimited" ? nrOpen() : Number(s));
  const soft = value(m[1]);
  const hard = value(m[2]);
  return Number.isFinite(soft) && Number.isFinite(hard) ? { soft, hard } : undefined;
}

/**
 * Raises this process's soft `RLIMIT_NOFILE` to its hard limit (a few ms: one `prlimit` run).
 * @example const { limit, raisedFrom } = raiseNofileLimit();
 */
export function raiseNofileLimit(): NofileOutcome {
  const before = readNofileLimit();
  if (before === undefined) return { limit: undefined, problem: "no /proc/self/limits on this platform" };
  if (before.soft >= before.hard) return { limit: before };
  const r = spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${before.hard}:${before.hard}`], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 5_000,
  });
  const after = readNofileLimit() ?? before;
  if (after.soft > before.soft) return { limit: after, raisedFrom: before.soft };
  const why =
    r.error !== undefined
      ? (r.error as NodeJS.ErrnoException).code === "ENOENT"
        ? "`prlimit` (util-linux) is not installed"
        : r.error.message
      : (r.stderr ?? "").trim() || `prlimit exited with ${r.status}`;
  return { limit: after, problem: why };
}
