/**
 * @module cli/ensure-daemon
 * `steward up` starts the daemon in the background when none answers on the socket: a detached
 * process in its own session, output appended to `<home>/logs/daemon.log`.
 */
import { StewardError } from "../errors.js";
import { tailLines } from "../process/logfile.js";
import type { StatusDocument } from "../daemon/status.js";
import { call } from "./client.js";
import { spawnDaemon } from "../daemon/spawn-daemon.js";

const STARTUP_LIMIT_MS = 15_000;

/** Returns the running daemon's pid, or starts one (the caller has validated the topology). */
export async function ensureDaemon(
  socket: string,
  home: string,
  topologyFile: string,
): Promise<{ started: boolean; pid: number }> {
  try {
    const status = await call<StatusDocument>(socket, "GET", "/v1/status");
    if (status.daemon.topology !== topologyFile)
      throw new StewardError(
        "STW-1010",
        `the daemon on ${home} runs ${status.daemon.topology}, not ${topologyFile}; run \`steward down\` there first`,
      );
    return { started: false, pid: status.daemon.pid };
  } catch (err) {
    if (!(err instanceof StewardError) || err.code !== "STW-1007") throw err;
  }
  const child = spawnDaemon(topologyFile, home);
  const logFile = child.logFile;
  let exited: number | null = null;
  child.onExit((code) => (exited = code));
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      // Two `up`s at once: the other one's daemon won the lock, and serves us as well.
      const winner = await call<StatusDocument>(socket, "GET", "/v1/status").catch(() => undefined);
      if (winner) return { started: false, pid: winner.daemon.pid };
      const tail = (await tailLines(logFile, 15)).join("\n");
      throw new StewardError(
        "STW-1011",
        `the daemon exited during start-up (code ${exited}); ${logFile} says:\n${tail}`,
        { details: { exitCode: exited } },
      );
    }
    try {
      const status = await call<StatusDocument>(socket, "GET", "/v1/status");
      return { started: status.daemon.pid === child.pid, pid: status.daemon.pid };
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new StewardError(
    "STW-1011",
    `the daemon did not answer on ${socket} within ${STARTUP_LIMIT_MS / 1000}s; see ${logFile}`,
  );
}
