// The stop budget of one replica (docs/stopping.md): drain hook → stop signal to the process
// group → grace → SIGKILL of the whole group, and `recover` before the next start of a replica
// that had to be killed.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alive,
  node,
  procStat,
  project,
  replica,
  steward,
  Stamps,
  waitFor,
  waitForState,
} from "./helpers.js";

const stampsOf = (dir: string): Stamps => new Stamps(path.join(dir, "stamps.log"));

describe("stop budget", () => {
  it("grace expiry: the whole group is SIGKILLed, grandchild included, and the replica is killed and invalidated", async () => {
    const dir = project(`
components:
  g:
    command: ${node("spawns-grandchild.js", "{dir}/grandchild.pid")}
    stop: { grace: 500ms }
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const leader = (await replica(dir, "g")).pid!;
    const grandchild = await waitFor("the grandchild's pid file", () => {
      const f = path.join(dir, "grandchild.pid");
      return fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : undefined;
    });
    expect(alive(grandchild)).toBe(true);
    expect(procStat(grandchild)?.pgrp, "the grandchild is in the replica's process group").toBe(leader);

    const stop = await steward(dir, "stop", "g");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.ms, "the grace was waited out").toBeGreaterThanOrEqual(500);

    const r = await replica(dir, "g");
    expect(r).toMatchObject({ state: "killed", invalidated: true, pid: null });
    expect(r.lastExit).toMatchObject({ forced: true, signal: "SIGKILL", exitCode: null });
    expect(r.lastExit?.reason).toMatch(/^stop requested; /);
    expect(r.lastExit?.reason).toContain(`grace of 500ms expired: SIGKILL sent to process group ${leader}`);
    expect(r.reason).toMatch(/killed/);
    expect(alive(leader), "the replica's main process is dead").toBe(false);
    expect(alive(grandchild), "the grandchild is dead").toBe(false);
  });

  it("a program that exits on SIGTERM is stopped gracefully: not forced, not invalidated, its file says bye", async () => {
    const dir = project(`
components:
  w:
    command: ${node("writes-on-sigterm.js", "{dir}/bye.txt")}
    stop: { grace: 10s }
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const pid = (await replica(dir, "w")).pid!;

    const stop = await steward(dir, "stop", "w");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.ms, "it did not wait out the 10s grace").toBeLessThan(5_000);
    const r = await replica(dir, "w");
    expect(r).toMatchObject({ state: "stopped", invalidated: false, pid: null, reason: null });
    expect(r.lastExit).toMatchObject({ exitCode: 0, signal: null, forced: false, reason: "stop requested" });
    expect(fs.readFileSync(path.join(dir, "bye.txt"), "utf8")).toBe("bye\n");
    expect(alive(pid)).toBe(false);
  });

  it("the drain hook runs before the stop signal; a failing one is noted in lastExit.reason and the stop completes", async () => {
    const stampEnv = `env: { STAMP_FILE: "{dir}/stamps.log" }`;
    const dir = project(`
components:
  ok:
    command: ${node("stamp.js", "ok")}
    ${stampEnv}
    drain: { command: "${node("stamp.js", "--once", "ok", "drain", "0")}", timeout: 5s }
    stop: { grace: 5s }
  bad:
    command: ${node("stamp.js", "bad")}
    ${stampEnv}
    drain: { command: "${node("stamp.js", "--once", "bad", "drain", "7")}", timeout: 5s }
    stop: { grace: 5s }
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);

    const stop = await steward(dir, "stop");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    const s = stampsOf(dir);
    for (const name of ["ok", "bad"]) {
      expect(s.one(name, "drain"), `${name}: drain hook before SIGTERM\n${s.toString()}`).toBeLessThanOrEqual(
        s.one(name, "sigterm"),
      );
      expect(s.all(name, "exit"), `${name} exited`).toHaveLength(1);
    }
    const ok = await replica(dir, "ok");
    expect(ok).toMatchObject({ state: "stopped", invalidated: false });
    expect(ok.lastExit).toMatchObject({ exitCode: 0, forced: false, reason: "stop requested" });
    const bad = await replica(dir, "bad");
    expect(bad).toMatchObject({ state: "stopped", invalidated: false, pid: null });
    expect(bad.lastExit).toMatchObject({ exitCode: 0, forced: false });
    expect(bad.lastExit?.reason).toBe("stop requested; drain hook exited with 7");
  });

  it("`recover` runs before the next start after a kill, and clears `invalidated`", async () => {
    const dir = project(`
components:
  r:
    command: ${node("stamp.js", "r")}
    env: { STAMP_FILE: "{dir}/stamps.log", STAMP_IGNORE_TERM: "1" }
    stop: { grace: 300ms }
    recover: ${node("stamp.js", "--once", "r", "recover", "0")}
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(stampsOf(dir).all("r", "recover"), "no recover on a first start").toEqual([]);

    const stop = await steward(dir, "stop", "r");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(await replica(dir, "r")).toMatchObject({ state: "killed", invalidated: true });

    const start = await steward(dir, "start", "r");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    // No readiness probe: ready once spawned, so the program may not have stamped yet.
    const s = await waitFor("the second spawn of r", () => {
      const now = stampsOf(dir);
      return now.all("r", "spawn").length >= 2 && now;
    });
    const spawns = s.all("r", "spawn");
    expect(spawns, s.toString()).toHaveLength(2);
    const recover = s.one("r", "recover");
    expect(recover, `recover after the kill, before the new spawn\n${s.toString()}`).toBeGreaterThanOrEqual(
      s.one("r", "sigterm"),
    );
    expect(recover).toBeLessThanOrEqual(spawns[1]!);
    const r = await replica(dir, "r");
    expect(r).toMatchObject({ state: "ready", invalidated: false, reason: null });
    expect(r.pid).not.toBeNull();
  });

  it("a `recover` that exits 1 leaves the replica failed and still invalidated, and its dependants do not start", async () => {
    const dir = project(`
components:
  x:
    command: ${node("stamp.js", "x")}
    env: { STAMP_FILE: "{dir}/stamps.log", STAMP_IGNORE_TERM: "1" }
    stop: { grace: 300ms }
    recover: ${node("stamp.js", "--once", "x", "recover", "1")}
  y:
    command: ${node("stamp.js", "y")}
    env: { STAMP_FILE: "{dir}/stamps.log" }
    depends_on: [x]
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const stop = await steward(dir, "stop", "x");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(await replica(dir, "x")).toMatchObject({ state: "killed", invalidated: true });
    expect(await replica(dir, "y")).toMatchObject({ state: "stopped" });

    const start = await steward(dir, "start", "y");
    expect(start.code, start.stdout + start.stderr).toBe(1);
    expect(start.stdout).toMatch(/x.*recover hook exited with 1/);
    const x = await waitForState(dir, "x", "failed");
    expect(x).toMatchObject({ invalidated: true, pid: null });
    expect(x.reason).toMatch(/recover hook exited with 1/);
    const s = stampsOf(dir);
    expect(s.all("x", "recover"), s.toString()).toHaveLength(1);
    expect(s.all("x", "spawn"), "x was not spawned after its recover failed").toHaveLength(1);
    expect(s.all("y", "spawn"), "y was not spawned again").toHaveLength(1);
    expect(await replica(dir, "y")).toMatchObject({ state: "stopped", pid: null });
  });
});
