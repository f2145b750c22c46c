import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { allocatePort } from "../../src/process/ports.js";
import {
  groupMembers,
  isAlive,
  isGroupAlive,
  parseStat,
  portHolder,
  readStartTime,
  readStat,
} from "../../src/process/proc.js";
import { spawnReplica, type SpawnedReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let dir: string;
let logFile: string;
const groups: number[] = [];

async function start(command: string[], extraEnv: Record<string, string> = {}): Promise<SpawnedReplica> {
  const r = await spawnReplica({ command, cwd: dir, env: { ...process.env, ...extraEnv }, logFile });
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

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-proc-"));
  logFile = path.join(dir, "replica.log");
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("parseStat", () => {
  it("reads the fields after the last parenthesis, whatever the name contains", () => {
    const text =
      "4242 (a) b (c) S 1 4242 4242 0 -1 4194304 115 0 0 0 0 0 0 0 20 0 1 0 987654 2654208 348 0 0\n";
    expect(parseStat(text)).toEqual({
      pid: 4242,
      comm: "a) b (c",
      state: "S",
      ppid: 1,
      pgrp: 4242,
      session: 4242,
      startTime: 987654,
    });
  });
  it("returns undefined for malformed text", () => {
    expect(parseStat("garbage")).toBeUndefined();
    expect(parseStat("1 (x) S 1")).toBeUndefined();
  });
});

describe("readStartTime / isAlive", () => {
  it("reads field 22 of a live process whose name has spaces and parentheses", async () => {
    const r = await start(["node", "-e", 'process.title = "a) b (c"; setInterval(() => {}, 1e9)']);
    await waitFor(() => readStat(r.pid)?.comm === "a) b (c");
    const raw = readFileSync(`/proc/${r.pid}/stat`, "utf8");
    const expected = Number(raw.slice(raw.lastIndexOf(")") + 2).split(" ")[19]);
    expect(readStartTime(r.pid)).toBe(expected);
    expect(r.startTime).toBe(expected);
  });

  it("tells a live process from a wrong start time and from a dead one", async () => {
    const r = await start(["node", fixture("crashes-after.js"), "300", "0"]);
    expect(isAlive(r.pid)).toBe(true);
    expect(isAlive(r.pid, r.startTime)).toBe(true);
    expect(isAlive(r.pid, r.startTime + 1)).toBe(false);
    await new Promise((resolve) => r.child.once("exit", resolve));
    expect(isAlive(r.pid)).toBe(false);
    expect(isAlive(r.pid, r.startTime)).toBe(false);
    expect(readStartTime(r.pid)).toBeUndefined();
  });

  it("answers false and undefined for pids that cannot exist", () => {
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-5)).toBe(false);
    expect(readStartTime(2 ** 30)).toBeUndefined();
  });
});

describe("groupMembers", () => {
  it("lists the leader and the grandchild it spawned in its group", async () => {
    const pidFile = path.join(dir, "grandchild.pid");
    const r = await start([fixture("spawns-grandchild.js"), pidFile]);
    await waitFor(() => {
      try {
        return readFileSync(pidFile, "utf8").length > 0;
      } catch {
        return false;
      }
    });
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(groupMembers(r.pgid)).toEqual([r.pid, grandchild].sort((a, b) => a - b));
    expect(isGroupAlive(r.pgid)).toBe(true);
    signalGroup(r.pgid, "SIGKILL");
    await waitFor(() => !isGroupAlive(r.pgid));
    expect(groupMembers(r.pgid)).toEqual([]);
  });
});

describe("portHolder", () => {
  it("names the process listening on a port", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("http-server.js")], { PORT: String(port) });
    await waitFor(() => readFileSync(logFile, "utf8").includes("listening"));
    expect(portHolder(port)).toEqual({ pid: r.pid, command: `node ${fixture("http-server.js")}` });
  });

  it("answers undefined for a port nobody listens on", async () => {
    expect(portHolder(await allocatePort())).toBeUndefined();
  });
});
