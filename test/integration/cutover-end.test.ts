/**
 * The end of a cutover is one transaction: the operation's end and the session's commit together,
 * so a daemon SIGKILLed there leaves both ended or both running (the next daemon resumes it). A
 * real SQLite trigger refuses the session's end, standing for a kill between the two writes: the
 * operation must not be ended without it. Homes an older daemon left stranded — the operation
 * ended but the session still says `cutover running`, or no operation at all — are settled at boot:
 * `patch status` shows the cycle completed or failed with nothing changed, never running.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { alive, fixture, freePort, homeOf, project, status, steward, waitFor } from "./helpers.js";

interface App {
  dir: string;
  root: string;
}

async function app(): Promise<App> {
  const port = await freePort();
  const dir = project(`
name: cutover-end
components:
  web:
    command: node server.js
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 3s }
    stop: { grace: 3s }
    drain: { timeout: 3s }
  worker:
    command: node worker.js
    stop: { grace: 3s }
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
patching:
  root: editions
`);
  fs.cpSync(fixture("edition-app"), path.join(dir, "app"), { recursive: true });
  expect((await steward(dir, "patch", "init", "--from", "app")).code).toBe(0);
  expect((await steward(dir, "up")).code).toBe(0);
  const p = path.join(dir, "patches", "v2");
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), "id: v2\ndescription: version 2\n");
  fs.writeFileSync(path.join(p, "files", "version.txt"), "2\n");
  for (const args of [["prepare"], ["apply", p], ["finalize"]]) {
    const r = await steward(dir, "patch", ...args);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  return { dir, root: path.join(dir, "editions") };
}

const runLink = (a: App): string => fs.readlinkSync(path.join(a.root, "run"));

interface SessionRow {
  status: string;
  phases: string;
}

/** A read-write connection to the state database (the daemon keeps its own). */
function db(a: App): Database.Database {
  return new Database(path.join(homeOf(a.dir), "state.db"), { fileMustExist: true });
}

async function killDaemon(a: App): Promise<void> {
  const { daemon } = await status(a.dir);
  process.kill(daemon.pid, "SIGKILL");
  await waitFor("the daemon to die", () => !alive(daemon.pid));
}

/** Start the next daemon and wait until it has finished recovering. */
async function recover(a: App): Promise<void> {
  const up = await steward(a.dir, "up");
  expect(up.code, up.stdout + up.stderr).toBe(0);
  await waitFor("recovery", async () => (await status(a.dir)).daemon.state === "active", 20_000);
}

async function session(
  a: App,
): Promise<{ status: string; phases: Record<string, { state: string; detail: string | null }> }> {
  const r = await steward(a.dir, "patch", "status", "--json");
  expect(r.code, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as { open: never; history: never[] };
  return s.open ?? s.history[0]!;
}

describe("the end of a cutover", () => {
  it("commits the operation's end and the session's together: refused together, resumed to completed", async () => {
    const a = await app();
    const conn = db(a);
    try {
      conn.exec(`CREATE TRIGGER refuse_end BEFORE UPDATE ON patch_sessions WHEN NEW.status = 'completed'
        BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
      await steward(a.dir, "patch", "cutover");
      const op = conn.prepare("SELECT status FROM operations WHERE kind = 'cutover'").get() as {
        status: string;
      };
      const row = conn.prepare("SELECT status, phases FROM patch_sessions WHERE id = 1").get() as SessionRow;
      expect(row.status).toBe("open");
      expect((JSON.parse(row.phases) as { cutover: { state: string } }).cutover.state).toBe("running");
      // Without one transaction the operation was `done` here: the session stranded as running.
      expect(op.status).toBe("running");
      conn.exec("DROP TRIGGER refuse_end");
    } finally {
      conn.close();
    }
    await killDaemon(a);
    await recover(a);
    expect(await session(a)).toMatchObject({ status: "completed", phases: { cutover: { state: "done" } } });
    expect(runLink(a)).toBe("fs2");
    const verify = await steward(a.dir, "verify");
    expect(verify.code, verify.stdout).toBe(0);
  });

  it("a session an older daemon stranded as `cutover running` after its operation ended is settled completed at boot", async () => {
    const a = await app();
    expect((await steward(a.dir, "patch", "cutover")).code).toBe(0);
    await killDaemon(a);
    const conn = db(a);
    try {
      conn.exec(`UPDATE patch_sessions SET status = 'open', finished_at = NULL,
        phases = json_set(phases, '$.cutover.state', 'running', '$.cutover.finishedAt', NULL) WHERE id = 1`);
    } finally {
      conn.close();
    }
    await recover(a);
    expect(await session(a)).toMatchObject({ status: "completed", phases: { cutover: { state: "done" } } });
    expect(runLink(a)).toBe("fs2");
    // The cycle is closed: the next one opens.
    const prepare = await steward(a.dir, "patch", "prepare");
    expect(prepare.code, prepare.stdout + prepare.stderr).toBe(0);
  });

  it("a cutover recorded running with no operation (killed before it was journaled) fails with nothing changed; run again, it completes", async () => {
    const a = await app();
    await killDaemon(a);
    const conn = db(a);
    try {
      const started = Date.now();
      conn.exec(`UPDATE patch_sessions SET phases = json_set(phases, '$.cutover',
        json_object('state', 'running', 'startedAt', ${started}, 'finishedAt', NULL, 'detail', NULL, 'operationId', NULL))
        WHERE id = 1`);
    } finally {
      conn.close();
    }
    await recover(a);
    const stranded = await session(a);
    expect(stranded.status).toBe("open");
    expect(stranded.phases.cutover).toMatchObject({ state: "failed" });
    expect(stranded.phases.cutover!.detail).toMatch(
      /before the cutover changed anything; run `steward patch cutover` again/,
    );
    expect(runLink(a)).toBe("fs1");
    const cutover = await steward(a.dir, "patch", "cutover");
    expect(cutover.code, cutover.stdout + cutover.stderr).toBe(0);
    expect(await session(a)).toMatchObject({ status: "completed" });
    expect(runLink(a)).toBe("fs2");
  });
});
