/**
 * Recovery beyond re-adoption: `steward daemon restart` hands the application over without a
 * restart; a stop interrupted by a daemon crash resumes from the journal with what is left of its
 * grace while the API answers 503 RECOVERING; orphans are swept at recovery and at `down`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alive,
  api,
  BIN,
  homeOf,
  node,
  openStateDb,
  project,
  replica,
  status,
  steward,
  waitFor,
  waitForState,
} from "./helpers.js";

async function killDaemon(dir: string): Promise<number> {
  const { daemon } = await status(dir);
  process.kill(daemon.pid, "SIGKILL");
  await waitFor("the daemon to die", () => !alive(daemon.pid), 5_000);
  return daemon.pid;
}

/** Starts `steward daemon` alone, detached, as an init system would. */
function startDaemon(dir: string): void {
  const log = fs.openSync(path.join(homeOf(dir), "logs", "daemon.log"), "a");
  spawn(process.execPath, [BIN, "daemon"], { cwd: dir, detached: true, stdio: ["ignore", log, log] }).unref();
  fs.closeSync(log);
}

function operations(dir: string): { kind: string; status: string; resumes: number }[] {
  const db = openStateDb(dir);
  try {
    return db.prepare("SELECT kind, status, resumes FROM operations ORDER BY started_at, id").all() as {
      kind: string;
      status: string;
      resumes: number;
    }[];
  } finally {
    db.close();
  }
}

describe("recovery", () => {
  it("`daemon restart` replaces the daemon without touching the application: same pids, same instance", async () => {
    const dir = project(`
name: handover
components:
  a:
    command: ${node("forever.js")}
  b:
    command: ${node("forever.js")}
    replicas: 2
    depends_on: { a: ready }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const before = await status(dir);
    const pids = before.components.flatMap((c) => c.replicas.map((r) => r.pid));

    const restart = await steward(dir, "daemon", "restart");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(restart.stdout).toMatch(
      new RegExp(
        `pid ${before.daemon.pid} → \\d+ \\(instance 100\\); 3 replicas taken over under the same pid`,
      ),
    );
    expect(alive(before.daemon.pid)).toBe(false);
    const after = await status(dir);
    expect(after.daemon).toMatchObject({ state: "active", instance: 100, bootKind: "handover" });
    expect(after.daemon.pid).not.toBe(before.daemon.pid);
    expect(after.components.flatMap((c) => c.replicas.map((r) => [r.pid, r.state, r.restarts]))).toEqual(
      pids.map((pid) => [pid, "ready", 0]),
    );

    // Still supervised by the new daemon: an exit is noticed and the restart policy applies.
    process.kill(pids[0]!, "SIGKILL");
    await waitFor("a to be restarted", async () => {
      const r = await replica(dir, "a");
      return r.state === "ready" && r.pid !== pids[0];
    });
  });

  it("a stop interrupted in its grace resumes with what is left of it; meanwhile the API answers 503 RECOVERING", async () => {
    const dir = project(`
name: midstop
components:
  stubborn:
    command: ${node("ignores-sigterm.js")}
    stop: { grace: 3s }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const pid = (await replica(dir, "stubborn")).pid!;
    const stopping = steward(dir, "stop"); // its daemon dies under it
    await waitForState(dir, "stubborn", "stopping");
    const signalled = Date.now();
    await new Promise((r) => setTimeout(r, 800));
    await killDaemon(dir);
    await stopping;
    expect(alive(pid)).toBe(true); // in its grace, ignoring SIGTERM

    startDaemon(dir);
    const during = await waitFor("a 503 while recovering", async () => {
      const res = await api(dir, "POST", "/v1/start", "{}");
      return res.status === 503 ? res : undefined;
    });
    expect(JSON.parse(during.body).error.code).toBe("RECOVERING");
    expect(during.headers["retry-after"]).toBe("1");
    expect((await status(dir)).daemon.state).toBe("recovering");

    // The CLI waits for the recovery instead of failing.
    const start = await steward(dir, "start");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.stdout).toMatch(/recovering after a crash \(instance 101\); resuming stop: waiting/);

    const doc = await status(dir);
    expect(doc.daemon).toMatchObject({ state: "active", instance: 101, bootKind: "recovered" });
    expect(doc.daemon.recovery).toMatchObject({ adopted: 1, resumed: ["stop"] });
    const r = doc.components[0]!.replicas[0]!;
    // Killed at the end of the grace that began before the crash, not after a fresh one.
    expect(alive(pid)).toBe(false);
    expect(r.pid).not.toBe(pid); // `start` started it again…
    expect(r.restarts).toBe(0);
    const db = openStateDb(dir);
    const killedAt = (
      db.prepare("SELECT finished_at FROM operation_steps WHERE name = 'kill'").get() as {
        finished_at: number;
      }
    ).finished_at;
    db.close();
    expect(killedAt - signalled).toBeLessThan(3_000 + 1_500);
    expect(killedAt - signalled).toBeGreaterThan(3_000 - 500);
    expect(operations(dir).map((o) => [o.kind, o.status, o.resumes])).toEqual([
      ["up", "done", 0],
      ["stop", "done", 1],
      ["start", "done", 0],
    ]);
  });

  it("a process outside every live replica is an orphan: swept at recovery, and nothing survives `down`", async () => {
    const dir = project(`
name: orphans
components:
  a:
    command: ${node("escapes-group.js", "{dir}/child.pid")}
    stop: { grace: 2s }
`);
    const pidFile = path.join(dir, "child.pid");
    expect((await steward(dir, "up")).code).toBe(0);
    const child = await waitFor(
      "the escaped child",
      () => fs.existsSync(pidFile) && Number(fs.readFileSync(pidFile, "utf8")),
    );
    const leader = (await replica(dir, "a")).pid!;
    await killDaemon(dir);
    process.kill(-leader, "SIGKILL"); // the leader dies unwatched; its escaped child lives on
    await waitFor("the leader to die", () => !alive(leader), 5_000);
    fs.rmSync(pidFile);

    expect((await steward(dir, "up")).code).toBe(0);
    await waitFor("the recovery", async () => (await status(dir)).daemon.state === "active");
    expect((await status(dir)).daemon.recovery).toMatchObject({ lost: 1, orphans: 1 });
    await waitFor("the orphan to be stopped", () => !alive(child), 5_000);
    const log = fs.readFileSync(path.join(homeOf(dir), "logs", "daemon.log"), "utf8");
    expect(log).toMatch(new RegExp(`orphan: process group ${child} \\(a\\[0\\], pid ${child}`));

    // The restarted replica escapes again; `down` stops that one too.
    await waitForState(dir, "a", "ready");
    const second = await waitFor(
      "the new escaped child",
      () => fs.existsSync(pidFile) && Number(fs.readFileSync(pidFile, "utf8")),
    );
    expect((await steward(dir, "down")).code).toBe(0);
    expect(alive(second)).toBe(false);
  });
});
