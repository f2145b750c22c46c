// Readiness gates fail closed (design §3): a component that is not ready in time fails the start
// and its dependants never start; each probe kind passes on a real program, and not before the
// program is actually ready.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, fixture, freePort, logOf, node, project, replica, steward, Stamps } from "./helpers.js";

const READY_MS = 400;

describe("readiness", () => {
  it("a tcp probe that never passes within 1s: `up` exits 1 naming it, the replica is failed and gone, its dependant never spawned", async () => {
    const port = await freePort(); // nothing will listen there
    const dir = project(`
components:
  a:
    command: ${node("forever.js")}
    ready: { tcp: ${port}, within: 1s }
    stop: { grace: 2s }
  b:
    command: ${node("forever.js")}
    depends_on: [a]
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(1);
    expect(up.stdout).toMatch(/✗ a: .*not ready within 1s/);
    expect(up.stdout).toContain(`tcp 127.0.0.1:${port}`);
    expect(up.ms).toBeGreaterThanOrEqual(1_000);

    const a = await replica(dir, "a");
    expect(a).toMatchObject({ state: "failed", pid: null });
    expect(a.reason).toMatch(/not ready within 1s/);
    const pid = Number(/^started (\d+)/m.exec(fs.readFileSync(logOf(dir, "a"), "utf8"))?.[1]);
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid), "the unready process was stopped").toBe(false);

    expect(await replica(dir, "b")).toMatchObject({ state: "stopped", pid: null, lastExit: null });
    expect(fs.existsSync(logOf(dir, "b")), "b was never spawned: it has no log").toBe(false);
  });

  // Each program becomes ready READY_MS after it starts (stamp.js writes `ready` at that moment);
  // the gate must not pass before.
  const probes: [kind: string, ready: string, moreEnv: string][] = [
    ["http", "{ http: /healthz, interval: 50ms }", `, STAMP_PORT: "\${port}"`],
    [
      "exec",
      `{ exec: [test, -f, "{dir}/ready.flag"], interval: 50ms }`,
      `, STAMP_READY_FILE: "{dir}/ready.flag"`,
    ],
    ["log", `{ log: "^READY p$", interval: 50ms }`, ""],
  ];
  it.each(probes)("the %s probe passes on a real program once it is ready", async (kind, ready, moreEnv) => {
    const dir = project(`
components:
  p:
    command: ${node("stamp.js", "p")}
    env: { STAMP_FILE: "{dir}/stamps.log", STAMP_READY_MS: "${READY_MS}"${moreEnv} }
    ready: ${ready}
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const r = await replica(dir, "p");
    expect(r.state).toBe("ready");
    const s = new Stamps(path.join(dir, "stamps.log"));
    expect(s.one("p", "ready") - s.one("p", "spawn")).toBeGreaterThanOrEqual(READY_MS);
    expect(r.since, `${kind}: ready only after the program was`).toBeGreaterThanOrEqual(s.one("p", "ready"));
    if (kind === "http") {
      expect(r.port).toEqual(expect.any(Number));
      expect((await fetch(`http://127.0.0.1:${r.port}/healthz`)).status).toBe(200);
    }
  });

  it("a program that exits before it is ready fails the gate with that reason, and its dependant never starts", async () => {
    const dir = project(`
components:
  a:
    command: ${process.execPath} ${fixture("crashes-after.js")} 200 1
    ready: { log: "never printed", within: 5s }
    restart: { policy: "no" }
  b:
    command: ${node("forever.js")}
    depends_on: [a]
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(1);
    expect(up.ms, "the gate noticed the exit, it did not wait out `within`").toBeLessThan(5_000);
    expect(up.stdout).toMatch(/✗ a: .*exited before it was ready/);
    const a = await replica(dir, "a");
    expect(["failed", "crashed"]).toContain(a.state);
    expect(a.pid).toBeNull();
    expect(a.reason).toMatch(/exited before it was ready/);
    expect(a.lastExit).toMatchObject({ exitCode: 1, forced: false });
    expect(await replica(dir, "b")).toMatchObject({ state: "stopped", pid: null });
    expect(fs.existsSync(logOf(dir, "b")), "b was never spawned").toBe(false);
  });
});
