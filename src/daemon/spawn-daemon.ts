/**
 * @module daemon/spawn-daemon
 * Starting a daemon in the background: a detached process in its own session, its output appended
 * to `<home>/logs/daemon.log`. `steward up` starts one this way; so does a daemon handing over to
 * the next one (`steward daemon restart`), which also passes its listening sockets.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A small young generation keeps the long-lived daemon's memory flat: measured with 100 replicas
 * after three start/stop cycles, 145 MB RSS by default, 100 MB with this flag, at no visible cost
 * in start/stop time. (V8 ignores it when set at run time, hence a flag.)
 */
export const DAEMON_NODE_FLAGS = ["--max-semi-space-size=1"];

/** Environment of a daemon started by a handover: the previous daemon's pid, and the sockets. */
export const HANDOVER_FROM = "STEWARD_HANDOVER_FROM";
export const INHERITED_LISTENERS = "STEWARD_INHERITED_LISTENERS";

/**
 * Spawns `steward daemon -f <file>`; `listeners` (`address|port` → fd in this process) become the
 * child's fds 3, 4, … and are named in its environment.
 */
export function spawnDaemon(
  topologyFile: string,
  home: string,
  opts: { handoverFrom?: number; listeners?: ReadonlyMap<string, number> } = {},
): { pid: number | undefined; onExit: (listener: (code: number) => void) => void; logFile: string } {
  mkdirSync(join(home, "logs"), { recursive: true, mode: 0o700 });
  const logFile = join(home, "logs", "daemon.log");
  const fd = openSync(logFile, "a");
  const bin = fileURLToPath(new URL("../../bin/steward.js", import.meta.url));
  const listeners = [...(opts.listeners ?? new Map<string, number>())];
  const env = { ...process.env };
  delete env[HANDOVER_FROM];
  delete env[INHERITED_LISTENERS];
  if (opts.handoverFrom !== undefined) env[HANDOVER_FROM] = String(opts.handoverFrom);
  if (listeners.length > 0)
    env[INHERITED_LISTENERS] = JSON.stringify(Object.fromEntries(listeners.map(([key], i) => [key, 3 + i])));
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, bin, "daemon", "-f", topologyFile], {
    detached: true,
    env,
    stdio: ["ignore", fd, fd, ...listeners.map(([, listenerFd]) => listenerFd)],
  });
  closeSync(fd);
  child.unref();
  return { pid: child.pid, onExit: (listener) => child.once("exit", (code) => listener(code ?? 1)), logFile };
}

/** What a daemon started by a handover inherited; the variables are removed (replicas must not see them). */
export function takeHandover(): { from?: number; listeners?: Map<string, number> } {
  const from = Number(process.env[HANDOVER_FROM]);
  const raw = process.env[INHERITED_LISTENERS];
  delete process.env[HANDOVER_FROM];
  delete process.env[INHERITED_LISTENERS];
  let listeners: Map<string, number> | undefined;
  try {
    if (raw) listeners = new Map(Object.entries(JSON.parse(raw) as Record<string, number>));
  } catch {
    listeners = undefined;
  }
  return { ...(Number.isInteger(from) && from > 0 ? { from } : {}), ...(listeners ? { listeners } : {}) };
}
