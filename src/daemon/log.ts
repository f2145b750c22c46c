/**
 * @module daemon/log
 * The daemon's own log: one line per event, timestamped, to stdout (which `steward up` points at
 * `<home>/logs/daemon.log`), rotated like replica logs: at 10 MiB, 5 files kept
 * (`daemon.log.1` … `daemon.log.5`). The daemon writes through an `O_APPEND` descriptor, so the
 * copy-then-truncate rotation of process/logfile applies unchanged.
 */
import { join } from "node:path";
import { rotateIfNeeded } from "../process/index.js";
import type { LogSpec } from "../topology/types.js";

export type LogLevel = "info" | "warn" | "error";

export function log(level: LogLevel, message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
}

/** Rotation of `daemon.log`: the replica logs' defaults. */
export const DAEMON_LOG_ROTATION: LogSpec = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/** `<home>/logs/daemon.log`. */
export const daemonLogFile = (home: string): string => join(home, "logs", "daemon.log");

/** Rotates `<home>/logs/daemon.log` when it has reached `spec.maxBytes`; true when it rotated. */
export async function rotateDaemonLog(home: string, spec: LogSpec = DAEMON_LOG_ROTATION): Promise<boolean> {
  try {
    return await rotateIfNeeded(daemonLogFile(home), spec);
  } catch (err) {
    log("warn", `log rotation of ${daemonLogFile(home)} failed: ${String(err)}`);
    return false;
  }
}
