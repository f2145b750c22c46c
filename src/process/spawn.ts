/**
 * @module process/spawn
 * Starts replicas and hooks (drain, recover, exec probes). Each runs in its own session and
 * process group (pgid = pid), with stdin on /dev/null and stdout and stderr appended to a log file
 * through an `O_APPEND` descriptor — never pipes held by the daemon — so a replica outlives the
 * daemon (design §4). The parent's copy of the descriptor is closed right after the spawn.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, fstatSync, mkdirSync, openSync, statSync } from "node:fs";
import path from "node:path";
import type { CommandSpec } from "../topology/types.js";
import { parseCommand, resolveExecutable } from "./command.js";
import { SpawnError } from "./errors.js";
import { signalGroup } from "./kill.js";
import { readStartTime } from "./proc.js";

export interface SpawnReplicaOptions {
  /** Already rendered: no `${...}` left. */
  command: CommandSpec;
  /** Absolute working directory; must exist. */
  cwd: string;
  /** The complete environment (merge `process.env` yourself if wanted). Its PATH is searched for the program. */
  env: NodeJS.ProcessEnv;
  /** Absolute path; its directory is created. Output is appended. */
  logFile: string;
}

export interface SpawnedReplica {
  pid: number;
  /** Process group id; equals `pid` (the replica leads its own session). */
  pgid: number;
  /** `/proc/<pid>/stat` start time, recorded to re-adopt the replica after a daemon crash. */
  startTime: number;
  /** Node's handle: listen for `exit` while the daemon lives; not unref'd here. */
  child: ChildProcess;
  /** Size of the log file before the spawn: where this replica's output begins (`log` readiness probes). */
  logOffset: number;
  /** Absolute path of the program that runs (`/bin/sh` for shell commands). */
  file: string;
  args: string[];
}

function checkCwd(cwd: string): void {
  const st = statSync(cwd, { throwIfNoEntry: false });
  if (!st)
    throw new SpawnError("ENOENT", `working directory \`${cwd}\` does not exist (ENOENT)`, { path: cwd });
  if (!st.isDirectory()) {
    throw new SpawnError("ENOTDIR", `working directory \`${cwd}\` is not a directory (ENOTDIR)`, {
      path: cwd,
    });
  }
}

function openLog(logFile: string): number {
  try {
    mkdirSync(path.dirname(logFile), { recursive: true });
    return openSync(logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw new SpawnError(code, `cannot open log file \`${logFile}\` (${code})`, {
      path: logFile,
      cause: err,
    });
  }
}

/**
 * Starts a replica in its own session and process group, output appended to `logFile`.
 * Rejects with `SpawnError` (`code` ENOENT / EACCES / EINVAL…) whose message is the reason,
 * e.g. "command `foo` not found in PATH"; nothing is spawned then.
 *
 * @example
 * const r = await spawnReplica({ command: "node engine.js", cwd: dir, env: { ...process.env, PORT: "7001" }, logFile });
 * r.child.once("exit", (code, signal) => …);
 */
export async function spawnReplica(opts: SpawnReplicaOptions): Promise<SpawnedReplica> {
  const parsed = parseCommand(opts.command);
  checkCwd(opts.cwd);
  const file = resolveExecutable(parsed.file, opts.cwd, opts.env.PATH);
  const fd = openLog(opts.logFile);
  let child: ChildProcess;
  let logOffset: number;
  try {
    logOffset = fstatSync(fd).size;
    child = spawn(file, parsed.args, {
      cwd: opts.cwd,
      env: opts.env,
      argv0: parsed.file,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
  } catch (err) {
    // Node validates arguments synchronously (e.g. a NUL byte in an argument).
    throw new SpawnError("EINVAL", `cannot start \`${parsed.file}\`: ${(err as Error).message}`, {
      file: parsed.file,
      path: file,
      cause: err,
    });
  } finally {
    closeSync(fd);
  }
  // Read now, before the event loop can reap a process that exits at once (a zombie still has it).
  const startTime = child.pid === undefined ? undefined : readStartTime(child.pid);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const code = err.code ?? "EIO";
      reject(
        new SpawnError(code, `cannot start \`${parsed.file}\`: ${err.message}`, {
          file: parsed.file,
          path: file,
          cause: err,
        }),
      );
    };
    child.once("error", onError);
    child.once("spawn", () => {
      child.off("error", onError);
      resolve();
    });
  });
  const pid = child.pid as number;
  return {
    pid,
    pgid: pid,
    startTime: startTime ?? readStartTime(pid) ?? 0,
    child,
    logOffset,
    file,
    args: parsed.args,
  };
}

export interface RunHookOptions extends SpawnReplicaOptions {
  /** After this, the hook's whole process group is SIGKILLed. */
  timeoutMs: number;
}

/** How a hook ended. */
export interface HookResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when `timeoutMs` passed and the group was SIGKILLed. */
  timedOut: boolean;
  durationMs: number;
}

/**
 * Runs a drain or recover hook, or an exec probe, to completion in its own process group with its
 * output appended to `logFile`. On timeout its whole group is SIGKILLed. Rejects with
 * `SpawnError` when it cannot start.
 *
 * @example await runHook({ command: "node store.js --repair", cwd, env, logFile, timeoutMs: 30_000 }) // { exitCode: 0, signal: null, timedOut: false, durationMs: 420 }
 */
export async function runHook(opts: RunHookOptions): Promise<HookResult> {
  const started = performance.now();
  const { child, pgid } = await spawnReplica(opts);
  return new Promise<HookResult>((resolve) => {
    let timedOut = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, durationMs: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(pgid, "SIGKILL");
    }, opts.timeoutMs);
    if (child.exitCode !== null || child.signalCode !== null) finish(child.exitCode, child.signalCode);
    else child.once("exit", finish);
  });
}
