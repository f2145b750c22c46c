/**
 * @module cli/recovery
 * How the CLI meets a daemon that crashed: a `daemon.pid` left behind by a daemon that is gone
 * means the application may still run unsupervised, so an operation starts a new daemon (which
 * re-adopts it) instead of failing; and while a daemon is recovering (503 `RECOVERING`), the CLI
 * says so once and tries again until it is active.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StewardError } from "../errors.js";
import { isAlive } from "../process/proc.js";

/** How long an operation waits for a recovering daemon before giving up. */
const RECOVERY_WAIT_LIMIT_MS = 10 * 60_000;
const RETRY_EVERY_MS = 200;

/** The pid in `<home>/daemon.pid`, if any. */
export function runningDaemon(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(home, "daemon.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in `<home>/daemon.pid` when that daemon is gone (it did not shut down in order). */
export function crashedDaemon(home: string): number | undefined {
  const pid = runningDaemon(home);
  if (pid === undefined) return undefined;
  if (isAlive(pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("steward")) return undefined;
    } catch {
      // gone meanwhile
    }
  }
  return pid;
}

/** Run `fn`; while the daemon answers `RECOVERING`, tell the user once and try again. */
export async function whileRecovering<T>(fn: () => Promise<T>, say: (line: string) => void): Promise<T> {
  const deadline = Date.now() + RECOVERY_WAIT_LIMIT_MS;
  let told = false;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StewardError) || err.code !== "RECOVERING" || Date.now() > deadline) throw err;
      if (!told) say(`${err.message.replace(/; try again in a moment$/, "")}: waiting…`);
      told = true;
      // Retry-After is in whole seconds; on the local socket asking again every 200 ms is cheap.
      await new Promise((r) => setTimeout(r, RETRY_EVERY_MS));
    }
  }
}
