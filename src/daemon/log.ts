/**
 * @module daemon/log
 * The daemon's own log: one line per event, timestamped, to stdout (which `steward up` points at
 * `<home>/logs/daemon.log`).
 */
export type LogLevel = "info" | "warn" | "error";

export function log(level: LogLevel, message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
}
