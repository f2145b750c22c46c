import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signalGroup, terminateGroup, waitGroupExit } from "../../src/process/kill.js";
import { isAlive, isGroupAlive, readStat } from "../../src/process/proc.js";
import { spawnReplica, type SpawnedReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let dir: string;
let logFile: string;
const groups: number[] = [];

async function start(command: string[]): Promise<SpawnedReplica> {
  const r = await spawnReplica({ command, cwd: dir, env: { ...process.env }, logFile });
  groups.push(r.pgid);
  return r;
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

const logHas = (text: string) => (): boolean =>
  existsSync(logFile) && readFileSync(logFile, "utf8").includes(text);
const exitOf = (r: SpawnedReplica): Promise<[number | null, NodeJS.Signals | null]> =>
  new Promise((resolve) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null)
      resolve([r.child.exitCode, r.child.signalCode]);
    else r.child.once("exit", (code, signal) => resolve([code, signal]));
  });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-kill-"));
  logFile = path.join(dir, "replica.log");
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("signalGroup", () => {
  it("answers false for a group that no longer exists", async () => {
    const r = await start(["node", fixture("crashes-after.js"), "0", "0"]);
    await exitOf(r);
    expect(signalGroup(r.pgid, "SIGTERM")).toBe(false);
  });

  it("refuses groups 0 and 1 and its own group", () => {
    expect(() => signalGroup(0, "SIGKILL")).toThrow(RangeError);
    expect(() => signalGroup(1, "SIGKILL")).toThrow(RangeError);
    const own = readStat(process.pid)?.pgrp as number;
    expect(() => signalGroup(own, 0)).toThrow(/daemon's own/);
  });
});

describe("waitGroupExit", () => {
  it("answers false when the group outlives the timeout and true once it is empty", async () => {
    const r = await start(["node", fixture("crashes-after.js"), "300", "0"]);
    expect(await waitGroupExit(r.pgid, 50)).toBe(false);
    expect(await waitGroupExit(r.pgid, 5000)).toBe(true);
  });
});

describe("terminateGroup", () => {
  it("ends a replica that exits on SIGTERM without forcing", async () => {
    const r = await start([fixture("forever.js")]);
    await waitFor(logHas("started"));
    const result = await terminateGroup(r.pgid, { signal: "SIGTERM", graceMs: 5000 });
    expect({ forced: result.forced, survivors: result.survivors }).toEqual({ forced: false, survivors: [] });
    expect(result.durationMs).toBeLessThan(5000);
    expect(await exitOf(r)).toEqual([0, null]);
  });

  it("lets the replica finish its shutdown work within the grace", async () => {
    const out = path.join(dir, "out.txt");
    const r = await start(["node", fixture("writes-on-sigterm.js"), out]);
    await waitFor(logHas("started"));
    const result = await terminateGroup(r.pgid, { signal: "SIGTERM", graceMs: 5000 });
    expect(result.forced).toBe(false);
    expect(readFileSync(out, "utf8")).toBe("bye\n");
  });

  it("SIGKILLs a replica that ignores SIGTERM once the grace has passed", async () => {
    const r = await start(["node", fixture("ignores-sigterm.js")]);
    await waitFor(logHas("started"));
    const result = await terminateGroup(r.pgid, { signal: "SIGTERM", graceMs: 300 });
    expect({ forced: result.forced, survivors: result.survivors }).toEqual({ forced: true, survivors: [] });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(await exitOf(r)).toEqual([null, "SIGKILL"]);
    expect(readFileSync(logFile, "utf8")).toContain("got SIGTERM, ignoring it");
  });

  it("kills a grandchild that ignores SIGTERM along with the leader", async () => {
    const pidFile = path.join(dir, "grandchild.pid");
    const r = await start([fixture("spawns-grandchild.js"), pidFile]);
    await waitFor(() => existsSync(pidFile));
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(readStat(grandchild)?.pgrp).toBe(r.pgid);

    const result = await terminateGroup(r.pgid, { signal: "SIGTERM", graceMs: 300 });

    expect({ forced: result.forced, survivors: result.survivors }).toEqual({ forced: true, survivors: [] });
    expect(isAlive(grandchild)).toBe(false);
    // Gone, or a zombie nobody reaps (its new parent may be a PID 1 that never waits).
    expect(["gone", "Z"]).toContain(readStat(grandchild)?.state ?? "gone");
    expect(isGroupAlive(r.pgid)).toBe(false);
  });
});
