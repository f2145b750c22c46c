/**
 * Jobs on demand and on a schedule, maintenance mode pausing and restoring them (also across a
 * daemon crash), and `steward verify`.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alive,
  homeOf,
  node,
  openStateDb,
  project,
  replica,
  sleep,
  status,
  steward,
  waitFor,
} from "./helpers.js";

interface RunRow {
  id: string;
  job: string;
  trigger: string;
  state: string;
  reason: string | null;
}

function runs(dir: string, job?: string): RunRow[] {
  const db = openStateDb(dir);
  try {
    const sql = `SELECT id, job, trigger, state, reason FROM job_runs ${job ? "WHERE job = ?" : ""} ORDER BY started_at, id`;
    return (job ? db.prepare(sql).all(job) : db.prepare(sql).all()) as RunRow[];
  } finally {
    db.close();
  }
}

describe("jobs", () => {
  it("`run` prints the job's output and exits with its outcome; an unknown job gets a did-you-mean", async () => {
    const dir = project(`
name: jobs
components:
  web:
    command: ${node("forever.js")}
jobs:
  hello:
    command: node -e "console.log('hello from the job')"
  broken:
    command: node -e "console.log('about to fail'); process.exit(3)"
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const ok = await steward(dir, "run", "hello");
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/job hello: run run-hello-\S+ started \(pid \d+\); log: /);
    expect(ok.stdout).toContain("hello from the job");
    expect(ok.stdout).toMatch(/job hello: run run-hello-\S+ succeeded in /);

    const bad = await steward(dir, "run", "broken");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("about to fail");
    expect(bad.stdout).toMatch(/run run-broken-\S+ failed in .*\(exited with code 3\)/);

    const typo = await steward(dir, "run", "helo");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown job `helo` \(did you mean `hello`\?\)/);

    expect(runs(dir).map((r) => [r.job, r.trigger, r.state])).toEqual([
      ["hello", "manual", "succeeded"],
      ["broken", "manual", "failed"],
    ]);
    const list = await steward(dir, "jobs");
    expect(list.stdout).toMatch(/hello\s+-\s+-\s+-\s+succeeded/);
  });

  it("refuses a second run beyond `concurrency`, and `down` cancels runs in progress", async () => {
    const dir = project(`
name: jobs2
components:
  web:
    command: ${node("forever.js")}
jobs:
  long:
    command: ${node("forever.js")}
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const first = await steward(dir, "run", "long", "--detach");
    expect(first.code).toBe(0);
    const second = await steward(dir, "run", "long", "--detach");
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /job `long` is already running \(run-long-\S+, pid \d+\); its concurrency is 1/,
    );
    expect((await steward(dir, "down")).code).toBe(0);
    expect(runs(dir, "long").map((r) => [r.state, r.reason])).toEqual([
      ["cancelled", "cancelled: the daemon is shutting down (`down`)"],
    ]);
  });
});

describe("maintenance mode", () => {
  it("pauses schedules and takes components offline; restores exactly that after a daemon crash in between", async () => {
    const dir = project(`
name: maint
components:
  store:
    command: ${node("forever.js")}
  engine:
    command: ${node("forever.js")}
    depends_on: { store: started }
  other:
    command: ${node("forever.js")}
jobs:
  tick:
    command: node -e "0"
    schedule: "* * * * * *"
`);
    expect((await steward(dir, "up")).code).toBe(0);
    await waitFor(
      "a scheduled run",
      () => runs(dir, "tick").some((r) => r.trigger === "schedule" && r.state === "succeeded"),
      5_000,
    );
    expect((await steward(dir, "verify")).code).toBe(0);

    const on = await steward(dir, "maintenance", "on", "store");
    expect(on.code, on.stdout + on.stderr).toBe(0);
    expect(on.stdout).toMatch(/paused 1 job schedule\(s\): tick/);
    const doc = await status(dir);
    const states = Object.fromEntries(doc.components.map((c) => [c.name, c.replicas[0]!.state]));
    expect(states).toEqual({ store: "offline", engine: "offline", other: "ready" });
    const verifyOn = await steward(dir, "verify");
    expect(verifyOn.code, verifyOn.stdout).toBe(0);
    expect(verifyOn.stdout).toMatch(/in maintenance: .*store.*offline/);
    expect((await steward(dir, "jobs")).stdout).toMatch(/tick\s+\* \* \* \* \* \*\s+paused \(maintenance\)/);
    const before = runs(dir, "tick").length;
    await sleep(1_500);
    await waitFor("runs in progress to end", () => runs(dir, "tick").every((r) => r.state !== "running"));
    const settled = runs(dir, "tick").length;
    expect(settled - before).toBeLessThanOrEqual(1); // at most one that had started as it paused

    // The daemon dies during maintenance: the next one keeps the schedule paused and both offline.
    process.kill(doc.daemon.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !alive(doc.daemon.pid), 5_000);
    expect((await steward(dir, "up")).code).toBe(0);
    expect((await replica(dir, "store")).state).toBe("offline");
    expect((await steward(dir, "jobs")).stdout).toMatch(/paused \(maintenance\)/);
    await sleep(1_500);
    expect(runs(dir, "tick").length).toBe(settled);

    const off = await steward(dir, "maintenance", "off");
    expect(off.code, off.stdout + off.stderr).toBe(0);
    expect(off.stdout).toMatch(/resumed 1 job schedule\(s\): tick; maintenance is off/);
    expect((await replica(dir, "store")).state).toBe("ready");
    expect((await replica(dir, "engine")).state).toBe("ready");
    await waitFor("the schedule to fire again", () => runs(dir, "tick").length > settled, 5_000);
    expect((await steward(dir, "verify")).code).toBe(0);

    const again = await steward(dir, "maintenance", "off");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not in maintenance: nothing to restore/);
  });

  it("waits for a running job, or cancels it with --cancel", async () => {
    const dir = project(`
name: maint2
components:
  web:
    command: ${node("forever.js")}
jobs:
  report:
    command: node -e "setTimeout(() => console.log('report done'), 1200)"
  batch:
    command: ${node("forever.js")}
`);
    expect((await steward(dir, "up")).code).toBe(0);
    expect((await steward(dir, "run", "report", "--detach")).code).toBe(0);
    const on = await steward(dir, "maintenance", "on", "--wait", "10s");
    expect(on.code, on.stdout + on.stderr).toBe(0);
    expect(on.stdout).toMatch(/waiting for 1 job run\(s\) to finish \(at most 10s\)/);
    expect(runs(dir, "report").map((r) => r.state)).toEqual(["succeeded"]);
    expect((await steward(dir, "maintenance", "off")).code).toBe(0);

    expect((await steward(dir, "run", "batch", "--detach")).code).toBe(0);
    const cancel = await steward(dir, "maintenance", "on", "--cancel");
    expect(cancel.code).toBe(0);
    expect(runs(dir, "batch").map((r) => [r.state, r.reason])).toEqual([
      ["cancelled", "cancelled: maintenance"],
    ]);
    expect((await steward(dir, "maintenance", "off")).code).toBe(0);
  });
});

describe("verify", () => {
  it("exits 1 and names the replica when what should run does not", async () => {
    const dir = project(`
name: ver
components:
  a:
    command: ${node("forever.js")}
    restart: { policy: "no" }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const pid = (await replica(dir, "a")).pid!;
    process.kill(pid, "SIGKILL");
    await waitFor("a to be crashed", async () => (await replica(dir, "a")).state === "crashed");
    const v = await steward(dir, "verify");
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/✗ a\[0\]: expected running and ready, found crashed, no process/);
    expect(fs.existsSync(path.join(homeOf(dir), "state.db"))).toBe(true);
  });
});
