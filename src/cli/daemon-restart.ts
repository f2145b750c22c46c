/**
 * @module cli/daemon-restart
 * `steward daemon restart`: the running daemon records a handover and exits without stopping any
 * replica; a new daemon (from the Steward now installed — the path a package upgrade takes) boots,
 * re-adopts every replica under its pid and resumes any operation that was under way.
 */
import { resolve } from "node:path";
import { StewardError } from "../errors.js";
import type { StatusDocument } from "../daemon/status.js";
import { formatMs } from "../process/duration.js";
import { isAlive } from "../process/proc.js";
import { call } from "./client.js";
import { ensureDaemon } from "./ensure-daemon.js";
import { whileRecovering } from "./recovery.js";

const EXIT_LIMIT_MS = 15_000;
const TAKEOVER_LIMIT_MS = 10 * 60_000;

/** Waits until daemon `pid` answers on `socket`; undefined when it died first (or took too long). */
async function answering(socket: string, pid: number): Promise<number | undefined> {
  const deadline = Date.now() + EXIT_LIMIT_MS;
  while (Date.now() < deadline && isAlive(pid)) {
    const status = await call<StatusDocument>(socket, "GET", "/v1/status").catch(() => undefined);
    if (status?.daemon.pid === pid) return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

export async function restartDaemon(
  t: { home: string; file: string },
  out: (line: string) => void,
): Promise<void> {
  const socket = resolve(t.home, "steward.sock");
  const started = Date.now();
  let old: { pid: number; instance: number; next: number | null } | undefined;
  try {
    old = await whileRecovering(
      () =>
        call<{ pid: number; instance: number; next: number | null }>(socket, "POST", "/v1/daemon/handover"),
      out,
    );
  } catch (err) {
    if (!(err instanceof StewardError) || err.code !== "STW-1007") throw err;
    out("no daemon was running; starting one");
  }
  if (old) {
    const deadline = Date.now() + EXIT_LIMIT_MS;
    while (isAlive(old.pid)) {
      if (Date.now() > deadline)
        throw new StewardError(
          "STW-1011",
          `daemon ${old.pid} did not exit within ${EXIT_LIMIT_MS / 1000}s after handing over`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  // The old daemon started its successor itself, handing it the edge's listening sockets.
  const pid =
    (old?.next && (await answering(socket, old.next))) || (await ensureDaemon(socket, t.home, t.file)).pid;
  const deadline = Date.now() + TAKEOVER_LIMIT_MS;
  let status = await call<StatusDocument>(socket, "GET", "/v1/status");
  while (status.daemon.state === "recovering" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    status = await call<StatusDocument>(socket, "GET", "/v1/status");
  }
  const r = status.daemon.recovery;
  const took = formatMs(Date.now() - started);
  const what = r
    ? `${r.adopted} replica${r.adopted === 1 ? "" : "s"} taken over under the same pid, ${r.lost} had ended, ${r.revived} started again`
    : "nothing to take over";
  out(
    `daemon restarted in ${took}: pid ${old?.pid ?? "-"} → ${pid} (instance ${status.daemon.instance}); ${what}`,
  );
}
