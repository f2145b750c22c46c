import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SpawnError } from "../../src/process/errors.js";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { isAlive, readStat } from "../../src/process/proc.js";
import { runHook, spawnReplica, type SpawnedReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const env = { ...process.env };

let dir: string;
let logFile: string;
const groups: number[] = [];

async function start(command: string | string[], opts: { cwd?: string } = {}): Promise<SpawnedReplica> {
  const r = await spawnReplica({ command, cwd: opts.cwd ?? dir, env, logFile });
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

const log = (): string => readFileSync(logFile, "utf8");
const exited = (r: SpawnedReplica): Promise<[number | null, NodeJS.Signals | null]> =>
  new Promise((resolve) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null)
      resolve([r.child.exitCode, r.child.signalCode]);
    else r.child.once("exit", (code, signal) => resolve([code, signal]));
  });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-spawn-"));
  logFile = path.join(dir, "logs", "engine.0.log");
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("spawnReplica", () => {
  it("starts a replica in its own session with stdout and stderr appended to the log file, not pipes", async () => {
    const r = await start([fixture("forever.js")]);
    await waitFor(() => log().includes("started"));
    const stat = readStat(r.pid);
    expect({ pgid: r.pgid, pgrp: stat?.pgrp, session: stat?.session, startTime: stat?.startTime }).toEqual({
      pgid: r.pid,
      pgrp: r.pid,
      session: r.pid,
      startTime: r.startTime,
    });
    expect(r.logOffset).toBe(0);
    expect(readlinkSync(`/proc/${r.pid}/fd/0`)).toBe("/dev/null");
    expect(readlinkSync(`/proc/${r.pid}/fd/1`)).toBe(logFile);
    expect(readlinkSync(`/proc/${r.pid}/fd/2`)).toBe(logFile);
    expect(log()).toBe(`started ${r.pid}\n`);
  });

  it("closes the parent's log descriptor; the replica keeps writing through its own", async () => {
    const r = await start(["node", fixture("prints-then-ready.js"), "300"]);
    const ours = readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === logFile;
      } catch {
        return false;
      }
    });
    expect(ours).toEqual([]);
    await waitFor(() => log().includes("ready to serve"));
    expect(log()).toBe(`started ${r.pid}\nready to serve\n`);
    expect(isAlive(r.pid, r.startTime)).toBe(true);
  });

  it("appends to an existing log and reports where this replica's output begins", async () => {
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, "previous run\n");
    const r = await start(["node", fixture("crashes-after.js"), "10", "3"]);
    expect(await exited(r)).toEqual([3, null]);
    expect(r.logOffset).toBe("previous run\n".length);
    expect(log()).toBe(`previous run\nstarted ${r.pid}, exiting with 3 in 10ms\n`);
  });

  it("splits a string command without shell syntax and runs it without a shell", async () => {
    const r = await start(`printf '%s|\\n' "a b" c\\ d`);
    expect(await exited(r)).toEqual([0, null]);
    expect(r.file).toMatch(/\/printf$/);
    expect(r.args).toEqual(["%s|\\n", "a b", "c d"]);
    expect(log()).toBe("a b|\nc d|\n");
  });

  it("runs a string command with shell syntax under /bin/sh -c", async () => {
    const r = await start("echo one; echo two >&2; exit 4");
    expect({ file: r.file, args: r.args }).toEqual({
      file: "/bin/sh",
      args: ["-c", "echo one; echo two >&2; exit 4"],
    });
    expect(await exited(r)).toEqual([4, null]);
    expect(log()).toBe("one\ntwo\n");
  });

  it("shows the program as written in argv[0]", async () => {
    const r = await start(`node ${fixture("forever.js")}`);
    await waitFor(() => log().includes("started"));
    expect(readFileSync(`/proc/${r.pid}/cmdline`, "utf8").split("\0")[0]).toBe("node");
  });

  it("rejects a program missing from PATH with ENOENT before spawning anything", async () => {
    const err = await spawnReplica({ command: "no-such-program-xyz --flag", cwd: dir, env, logFile }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpawnError);
    expect({ code: (err as SpawnError).code, message: (err as SpawnError).message }).toEqual({
      code: "ENOENT",
      message: "command `no-such-program-xyz` not found in PATH",
    });
  });

  it("rejects a script without execute permission with EACCES", async () => {
    writeFileSync(path.join(dir, "x.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(path.join(dir, "x.sh"), 0o644);
    const err = (await spawnReplica({ command: "./x.sh", cwd: dir, env, logFile }).catch(
      (e: unknown) => e,
    )) as SpawnError;
    expect({ code: err.code, message: err.message }).toEqual({
      code: "EACCES",
      message: "`./x.sh` is not executable (EACCES)",
    });
  });

  it("rejects a missing working directory with ENOENT", async () => {
    const cwd = path.join(dir, "nope");
    const err = (await spawnReplica({ command: "true", cwd, env, logFile }).catch(
      (e: unknown) => e,
    )) as SpawnError;
    expect({ code: err.code, message: err.message }).toEqual({
      code: "ENOENT",
      message: `working directory \`${cwd}\` does not exist (ENOENT)`,
    });
  });

  it("rejects arguments Node refuses with EINVAL", async () => {
    const err = (await spawnReplica({ command: ["node", "a\0b"], cwd: dir, env, logFile }).catch(
      (e: unknown) => e,
    )) as SpawnError;
    expect(err).toBeInstanceOf(SpawnError);
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/^cannot start `node`: /);
  });
});

describe("runHook", () => {
  it("runs to completion with output appended to the log", async () => {
    const r = await runHook({ command: "echo flushed; exit 0", cwd: dir, env, logFile, timeoutMs: 5000 });
    expect({ ...r, durationMs: 0 }).toEqual({ exitCode: 0, signal: null, timedOut: false, durationMs: 0 });
    expect(log()).toBe("flushed\n");
  });

  it("reports a failing exit code", async () => {
    const r = await runHook({
      command: ["node", fixture("crashes-after.js"), "0", "7"],
      cwd: dir,
      env,
      logFile,
      timeoutMs: 5000,
    });
    expect({ exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut }).toEqual({
      exitCode: 7,
      signal: null,
      timedOut: false,
    });
  });

  it("SIGKILLs the hook's whole group on timeout", async () => {
    const pidFile = path.join(dir, "background.pid");
    const command = `sleep 30 & echo $! > ${pidFile}; wait`;
    const r = await runHook({ command, cwd: dir, env, logFile, timeoutMs: 300 });
    expect({ exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut }).toEqual({
      exitCode: null,
      signal: "SIGKILL",
      timedOut: true,
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    const background = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => !isAlive(background));
  });

  it("rejects when the hook cannot start", async () => {
    await expect(
      runHook({ command: "no-such-hook-xyz", cwd: dir, env, logFile, timeoutMs: 1000 }),
    ).rejects.toMatchObject({
      code: "ENOENT",
      message: "command `no-such-hook-xyz` not found in PATH",
    });
  });
});
