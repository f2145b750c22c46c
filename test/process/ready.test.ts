import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { allocatePort } from "../../src/process/ports.js";
import { isAlive } from "../../src/process/proc.js";
import { waitReady, type ReadyContext } from "../../src/process/ready.js";
import { spawnReplica, type SpawnedReplica } from "../../src/process/spawn.js";
import type { ReadySpec } from "../../src/topology/types.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const env = { ...process.env };

let dir: string;
let logFile: string;
const groups: number[] = [];

async function start(command: string[]): Promise<SpawnedReplica> {
  const r = await spawnReplica({ command, cwd: dir, env, logFile });
  groups.push(r.pgid);
  return r;
}

function ctxFor(r: SpawnedReplica, extra: Partial<ReadyContext> = {}): ReadyContext {
  return {
    cwd: dir,
    env,
    logFile,
    logOffset: r.logOffset,
    isAlive: () => isAlive(r.pid, r.startTime),
    ...extra,
  };
}

const tcp = (port: number, withinMs: number): ReadySpec => ({
  kind: "tcp",
  host: "127.0.0.1",
  port: String(port),
  intervalMs: 50,
  timeoutMs: 1000,
  withinMs,
});

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-ready-"));
  logFile = path.join(dir, "replica.log");
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("waitReady", () => {
  it("passes once a tcp probe connects", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("slow-ready.js"), "300", String(port)]);
    const result = await waitReady(tcp(port, 10_000), ctxFor(r));
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.ms).toBeGreaterThanOrEqual(250);
  });

  it("passes once an http path answers 200 on the replica's port", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("slow-ready.js"), "200", String(port)]);
    const spec: ReadySpec = {
      kind: "http",
      url: "/healthz",
      intervalMs: 50,
      timeoutMs: 1000,
      withinMs: 10_000,
    };
    expect(await waitReady(spec, ctxFor(r, { port }))).toMatchObject({ ok: true });
  });

  it("passes once the replica prints the log pattern", async () => {
    const r = await start(["node", fixture("prints-then-ready.js"), "200"]);
    const spec: ReadySpec = {
      kind: "log",
      pattern: "ready to serve",
      intervalMs: 50,
      timeoutMs: 1000,
      withinMs: 10_000,
    };
    expect(await waitReady(spec, ctxFor(r))).toMatchObject({ ok: true });
  });

  it("passes once an exec probe exits 0", async () => {
    const r = await start(["node", fixture("forever.js")]);
    const flag = path.join(dir, "flag");
    const spec: ReadySpec = {
      kind: "exec",
      command: ["test", "-e", flag],
      intervalMs: 50,
      timeoutMs: 1000,
      withinMs: 10_000,
    };
    setTimeout(() => writeFileSync(flag, ""), 200);
    expect(await waitReady(spec, ctxFor(r))).toMatchObject({ ok: true });
  });

  it("fails closed, naming the limit and the last probe detail", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("forever.js")]);
    const t0 = performance.now();
    const result = await waitReady(tcp(port, 500), ctxFor(r));
    const elapsed = performance.now() - t0;
    expect(result).toEqual({
      ok: false,
      reason: `not ready within 500ms: tcp 127.0.0.1:${port}: ECONNREFUSED`,
    });
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(2000);
  });

  it("stops as soon as the replica exits", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("crashes-after.js"), "100", "1"]);
    const t0 = performance.now();
    expect(await waitReady(tcp(port, 10_000), ctxFor(r))).toEqual({
      ok: false,
      reason: "exited before it was ready",
    });
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("stops when the signal aborts", async () => {
    const port = await allocatePort();
    const r = await start(["node", fixture("forever.js")]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    expect(await waitReady(tcp(port, 10_000), ctxFor(r, { signal: controller.signal }))).toEqual({
      ok: false,
      reason: "aborted",
    });
  });

  it("fails at once on a spec that cannot work", async () => {
    const r = await start(["node", fixture("forever.js")]);
    const spec: ReadySpec = {
      kind: "tcp",
      host: "127.0.0.1",
      port: "http",
      intervalMs: 50,
      timeoutMs: 1000,
      withinMs: 10_000,
    };
    expect(await waitReady(spec, ctxFor(r))).toEqual({
      ok: false,
      reason: "tcp probe: port must be a number from 1 to 65535, got `http`",
    });
  });
});
