import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { allocatePort } from "../../src/process/ports.js";
import {
  createProbe,
  logCursor,
  probeExec,
  probeHttp,
  probeLog,
  probeTcp,
} from "../../src/process/probes.js";
import { spawnReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const env = { ...process.env };

let dir: string;
let serverPgid: number | undefined;
let port: number;
let freePort: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-probes-"));
  port = await allocatePort();
  freePort = await allocatePort();
  const logFile = path.join(dir, "server.log");
  const r = await spawnReplica({
    command: ["node", fixture("http-server.js")],
    cwd: dir,
    env: { ...env, PORT: String(port) },
    logFile,
  });
  serverPgid = r.pgid;
  const deadline = Date.now() + 5000;
  while (!readFileSync(logFile, "utf8").includes("listening")) {
    if (Date.now() > deadline) throw new Error("http-server did not start");
    await sleep(10);
  }
});

afterAll(async () => {
  if (serverPgid !== undefined) {
    signalGroup(serverPgid, "SIGKILL");
    await waitGroupExit(serverPgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("probeTcp", () => {
  it("passes when the port accepts connections", async () => {
    expect(await probeTcp("127.0.0.1", port, 1000)).toEqual({
      ok: true,
      detail: `tcp 127.0.0.1:${port}: connected`,
    });
  });
  it("fails with the connection error", async () => {
    expect(await probeTcp("127.0.0.1", freePort, 1000)).toEqual({
      ok: false,
      detail: `tcp 127.0.0.1:${freePort}: ECONNREFUSED`,
    });
  });
});

describe("probeHttp", () => {
  it("passes on 2xx and 3xx", async () => {
    const url = `http://127.0.0.1:${port}/healthz`;
    expect(await probeHttp(url, 1000)).toEqual({ ok: true, detail: `http ${url}: 200` });
    expect((await probeHttp(`http://127.0.0.1:${port}/status/302`, 1000)).ok).toBe(true);
  });
  it("fails on other statuses, naming the status", async () => {
    const url = `http://127.0.0.1:${port}/status/503`;
    expect(await probeHttp(url, 1000)).toEqual({ ok: false, detail: `http ${url}: 503` });
    expect((await probeHttp(`http://127.0.0.1:${port}/nope`, 1000)).detail).toBe(
      `http http://127.0.0.1:${port}/nope: 404`,
    );
  });
  it("fails with the connection error when nothing listens", async () => {
    const url = `http://127.0.0.1:${freePort}/healthz`;
    expect(await probeHttp(url, 1000)).toEqual({ ok: false, detail: `http ${url}: ECONNREFUSED` });
  });
  it("fails on an invalid URL", async () => {
    expect(await probeHttp("not a url", 1000)).toEqual({ ok: false, detail: "http not a url: invalid URL" });
  });
});

describe("probeExec", () => {
  const opts = (timeoutMs = 5000) => ({ cwd: dir, env, logFile: path.join(dir, "exec.log"), timeoutMs });
  it("passes on exit 0", async () => {
    expect(await probeExec("true", opts())).toEqual({ ok: true, detail: "exec `true`: exit 0" });
  });
  it("fails on another exit code", async () => {
    expect(await probeExec(["sh", "-c", "exit 3"], opts())).toEqual({
      ok: false,
      detail: "exec `sh -c exit 3`: exit 3",
    });
  });
  it("fails on timeout", async () => {
    expect(await probeExec("sleep 5", opts(200))).toEqual({
      ok: false,
      detail: "exec `sleep 5`: timed out after 200ms",
    });
  });
  it("fails when the command cannot start", async () => {
    expect(await probeExec("no-such-probe-xyz", opts())).toEqual({
      ok: false,
      detail: "exec `no-such-probe-xyz`: command `no-such-probe-xyz` not found in PATH",
    });
  });
});

describe("probeLog", () => {
  let logFile: string;
  beforeEach(() => {
    logFile = path.join(dir, `log-${Math.random().toString(36).slice(2)}.log`);
  });

  it("ignores what was written before the replica started", async () => {
    writeFileSync(logFile, "ready to serve (previous run)\n");
    const from = readFileSync(logFile).length;
    appendFileSync(logFile, "starting\n");
    expect(await probeLog(logFile, from, /ready to serve/)).toEqual({
      ok: false,
      detail: "log /ready to serve/: no match in 9 bytes of output",
    });
  });

  it("reads only new bytes on each call with a cursor, and matches an unterminated last line", async () => {
    writeFileSync(logFile, "");
    const cursor = logCursor(0);
    appendFileSync(logFile, "starting\nready to ");
    expect((await probeLog(logFile, 0, /ready to serve/, cursor)).ok).toBe(false);
    expect(cursor.offset).toBe(18);
    appendFileSync(logFile, "serve");
    expect(await probeLog(logFile, 0, /ready to serve/, cursor)).toEqual({
      ok: true,
      detail: "log /ready to serve/: matched `ready to serve`",
    });
    expect(cursor.offset).toBe(23);
    appendFileSync(logFile, "\nmore\n");
    expect((await probeLog(logFile, 0, /ready to serve/, cursor)).ok).toBe(true);
  });

  it("starts over when the file was truncated by rotation", async () => {
    writeFileSync(logFile, "x".repeat(100) + "\n");
    const cursor = logCursor(0);
    expect((await probeLog(logFile, 0, /ready/, cursor)).ok).toBe(false);
    truncateSync(logFile, 0);
    appendFileSync(logFile, "ready\n");
    expect((await probeLog(logFile, 0, /ready/, cursor)).ok).toBe(true);
  });

  it("fails on a missing file", async () => {
    expect(await probeLog(logFile, 0, /x/)).toEqual({ ok: false, detail: "log /x/: ENOENT" });
  });
});

describe("createProbe", () => {
  const ctx = { cwd: "/", env, logFile: "/dev/null", logOffset: 0 };
  it("resolves an http path against the replica's port", async () => {
    const probe = createProbe(
      { kind: "http", url: "/healthz", intervalMs: 100, timeoutMs: 1000 },
      { ...ctx, port },
    );
    expect(await probe()).toEqual({ ok: true, detail: `http http://127.0.0.1:${port}/healthz: 200` });
  });
  it("rejects specs that cannot work", () => {
    expect(() =>
      createProbe({ kind: "tcp", host: "127.0.0.1", port: "${port}", intervalMs: 1, timeoutMs: 1 }, ctx),
    ).toThrow("tcp probe: port must be a number from 1 to 65535, got `${port}`");
    expect(() => createProbe({ kind: "http", url: "/healthz", intervalMs: 1, timeoutMs: 1 }, ctx)).toThrow(
      "http probe: `/healthz` is a path but the replica has no port",
    );
    expect(() => createProbe({ kind: "log", pattern: "(", intervalMs: 1, timeoutMs: 1 }, ctx)).toThrow(
      /invalid pattern/,
    );
  });
});
