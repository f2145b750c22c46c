/**
 * @module process/proc
 * Everything Steward reads from `/proc` (Linux only): a process's start time (to tell a reused
 * pid apart when re-adopting replicas after a daemon crash), liveness, the members of a process
 * group, and which process holds a listening TCP port.
 *
 * Zombies (state `Z`) count as dead everywhere: a zombie whose parent is PID 1 may never be reaped
 * in a container, and it runs no code.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The fields of `/proc/<pid>/stat` that Steward uses. */
export interface ProcStat {
  pid: number;
  /** Executable name, up to 15 characters; may contain spaces and parentheses. */
  comm: string;
  /** `R` running, `S` sleeping, `D` disk sleep, `T` stopped, `Z` zombie, `X` dead… */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  session: number;
  /** Start time in clock ticks since boot (field 22). */
  startTime: number;
}

/** Who listens on a port, for "port 7001 is already in use by pid 1234 (python3 -m http.server)". */
export interface PortHolder {
  pid: number;
  /** The command line, arguments joined by spaces (the name in parentheses when unreadable). */
  command: string;
}

/**
 * Parses the text of `/proc/<pid>/stat`. `comm` is taken between the first `(` and the *last* `)`,
 * so a name like `a) b (c` cannot shift the fields. Returns `undefined` for malformed text.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  // Fields after the comm start at field 3 (state): field n is at index n - 3.
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const num = (field: number): number => Number(f[field - 3]);
  const stat: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0] ?? "",
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    startTime: num(22),
  };
  return Number.isInteger(stat.pid) && Number.isInteger(stat.pgrp) && Number.isInteger(stat.startTime)
    ? stat
    : undefined;
}

/** Reads `/proc/<pid>/stat`; `undefined` when the process does not exist. */
export function readStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return undefined;
  }
}

/** Process start time in clock ticks since boot (`/proc/<pid>/stat` field 22), `undefined` when there is no such process. */
export function readStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

function isDead(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

/**
 * True when `pid` exists and is not a zombie; when `startTime` is given, also that it is the same
 * process (a recycled pid has another start time).
 *
 * @example isAlive(record.pid, record.startTime) // re-adopt only when true
 */
export function isAlive(pid: number, startTime?: number): boolean {
  const stat = readStat(pid);
  if (!stat || isDead(stat.state)) return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Every pid in `/proc`. */
export function allPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** Pids of the live (non-zombie) processes in process group `pgid`, ascending. */
export function groupMembers(pgid: number): number[] {
  if (!Number.isInteger(pgid) || pgid <= 0) return [];
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // ESRCH: no process at all in the group, not even a zombie; skip the /proc scan.
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return [];
  }
  const members: number[] = [];
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && !isDead(stat.state)) members.push(pid);
  }
  return members.sort((a, b) => a - b);
}

/** Which of `pgids` still have any member, zombies included: one `kill(-pgid, 0)` each, no `/proc` read. */
export function existingGroups(pgids: Iterable<number>): Set<number> {
  const existing = new Set<number>();
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, 0);
      existing.add(pgid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") existing.add(pgid); // EPERM: it exists
    }
  }
  return existing;
}

/**
 * Which of `pgids` still have a live (non-zombie) member, with one `/proc` scan for all of them:
 * stopping 100 replicas at once then costs one scan per poll, not a hundred.
 */
export function liveGroups(pgids: Iterable<number>): Set<number> {
  const candidates = existingGroups(pgids);
  const live = new Set<number>();
  if (candidates.size === 0) return live;
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat && candidates.has(stat.pgrp) && !isDead(stat.state)) live.add(stat.pgrp);
  }
  return live;
}

/** True while any non-zombie process remains in process group `pgid`. */
export function isGroupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** The working directory of `pid` (`/proc/<pid>/cwd`), or undefined when it cannot be read. */
export function readCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The command line of `pid` (arguments joined by spaces), or `(comm)` when it has none. */
export function readCommandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "");
    if (raw) return raw.split("\0").join(" ");
  } catch {
    return undefined;
  }
  const stat = readStat(pid);
  return stat ? `(${stat.comm})` : undefined;
}

const TCP_LISTEN = "0A";

/** Socket inodes of the TCP sockets (v4 and v6) listening on `port`, any address. */
export function listeningInodes(port: number): string[] {
  const inodes: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    // Rows: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const inode = cols[9];
      if (!local || !inode || cols[3] !== TCP_LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(":") + 1);
      if (parseInt(hexPort, 16) === port && inode !== "0") inodes.push(inode);
    }
  }
  return inodes;
}

/**
 * The process listening on TCP `port` (best effort: matches the socket inode from
 * `/proc/net/tcp{,6}` to `/proc/<pid>/fd` links; processes we may not inspect are skipped).
 * When several processes share the socket (a pre-forking server), the lowest pid is returned.
 */
export function portHolder(port: number): PortHolder | undefined {
  const wanted = new Set(listeningInodes(port).map((inode) => `socket:[${inode}]`));
  if (wanted.size === 0) return undefined;
  for (const pid of allPids().sort((a, b) => a - b)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(link)) return { pid, command: readCommandLine(pid) ?? "?" };
    }
  }
  return undefined;
}
