// The shop's programs on their own (no Steward): real processes on real loopback ports.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allocatePort } from "../../src/process/index.js";

const shop = fileURLToPath(new URL("../../examples/shop/", import.meta.url));

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let procs: Proc[] = [];
let tmp = "";

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shop-test-"));
});

afterEach(async () => {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  procs = [];
  fs.rmSync(tmp, { recursive: true, force: true });
});

function run(script: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [path.join(shop, script), ...args], {
    cwd: tmp,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const proc = { child, output: () => out, exited };
  procs.push(proc);
  return proc;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

const healthy = (url: string) =>
  until(`${url}/healthz`, async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : undefined));

async function startStore(port: number, dataDir = path.join(tmp, "data")): Promise<Proc> {
  const p = run("store.js", ["--data", dataDir, "--port", String(port)]);
  await healthy(`http://127.0.0.1:${port}`);
  return p;
}

function startEngine(port: number, storePort: number, flushIntervalMs = 600_000): Proc {
  return run("engine.js", [], {
    PORT: String(port),
    STORE_URL: `http://127.0.0.1:${storePort}`,
    FLUSH_INTERVAL_MS: String(flushIntervalMs), // no background flush unless a test wants one
  });
}

async function put(url: string, value: string): Promise<number> {
  return (await fetch(url, { method: "PUT", body: value })).status;
}

async function storeContents(port: number): Promise<Record<string, string>> {
  const res = await fetch(`http://127.0.0.1:${port}/kv`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describe("shop: store + engine without Steward", () => {
  it("writes acknowledged by the engine are in the store after POST /flush", async () => {
    const [sp, ep] = [await allocatePort(), await allocatePort()];
    await startStore(sp);
    startEngine(ep, sp);
    const engine = `http://127.0.0.1:${ep}`;
    await healthy(engine);

    const keys = Array.from({ length: 50 }, (_, i) => `order-${i}`);
    for (const k of keys) expect(await put(`${engine}/kv/${k}`, `value of ${k}`)).toBe(202);

    // Acknowledged but not yet durable: the engine serves it, the store does not have it yet.
    expect(await (await fetch(`${engine}/kv/order-7`)).text()).toBe("value of order-7");
    expect((await fetch(`http://127.0.0.1:${sp}/kv/order-7`)).status).toBe(404);

    const flush = await fetch(`${engine}/flush`, { method: "POST" });
    expect(flush.status).toBe(200);
    expect(await flush.json()).toMatchObject({ flushed: 50, dirty: 0 });

    const stored = await storeContents(sp);
    for (const k of keys) expect(stored[k]).toBe(`value of ${k}`);
    // Reads now come from the store through the engine.
    expect(await (await fetch(`${engine}/kv/order-49`)).text()).toBe("value of order-49");
  });

  it("the engine's /healthz and /flush fail while the store is unreachable", async () => {
    const [sp, ep] = [await allocatePort(), await allocatePort()];
    startEngine(ep, sp);
    const engine = `http://127.0.0.1:${ep}`;
    await until("engine listening", async () =>
      (await fetch(`${engine}/healthz`)).status === 503 ? true : undefined,
    );
    expect(await put(`${engine}/kv/early`, "bird")).toBe(202);
    expect((await fetch(`${engine}/flush`, { method: "POST" })).status).toBe(503);

    await startStore(sp);
    await healthy(engine);
    expect((await fetch(`${engine}/flush`, { method: "POST" })).status).toBe(200);
    expect((await storeContents(sp)).early).toBe("bird");
  });

  it("the engine flushes dirty writes on SIGTERM and exits 0", async () => {
    const [sp, ep] = [await allocatePort(), await allocatePort()];
    await startStore(sp);
    const engine = startEngine(ep, sp);
    await healthy(`http://127.0.0.1:${ep}`);
    for (let i = 0; i < 10; i++) expect(await put(`http://127.0.0.1:${ep}/kv/k${i}`, `v${i}`)).toBe(202);
    engine.child.kill("SIGTERM");
    expect(await engine.exited).toBe(0);
    expect(Object.keys(await storeContents(sp)).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `k${i}`).sort(),
    );
  });

  it("writes survive a store restart, orderly or SIGKILL", async () => {
    const sp = await allocatePort();
    const store = `http://127.0.0.1:${sp}`;
    let p = await startStore(sp);
    for (let i = 0; i < 20; i++) expect(await put(`${store}/kv/k${i}`, `v${i}`)).toBe(204);
    const batch = await fetch(`${store}/kv/_batch`, {
      method: "POST",
      body: JSON.stringify({ b1: "x", b2: "y" }),
    });
    expect(batch.status).toBe(204);

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    p = await startStore(sp);
    let all = await storeContents(sp);
    expect(Object.keys(all)).toHaveLength(22);
    expect(all.k19).toBe("v19");
    expect(all.b2).toBe("y");

    // 204 means fsynced: a SIGKILL right after the answer loses nothing.
    expect(await put(`${store}/kv/last`, "word")).toBe(204);
    p.child.kill("SIGKILL");
    await p.exited;
    await startStore(sp);
    all = await storeContents(sp);
    expect(Object.keys(all)).toHaveLength(23);
    expect(all.last).toBe("word");
  });

  it("--repair cuts off a torn last record; start ignores and reports one", async () => {
    const sp = await allocatePort();
    const dataDir = path.join(tmp, "data");
    const logFile = path.join(dataDir, "store.log");
    let p = await startStore(sp, dataDir);
    for (let i = 0; i < 5; i++) expect(await put(`http://127.0.0.1:${sp}/kv/k${i}`, `v${i}`)).toBe(204);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    const goodSize = fs.statSync(logFile).size;

    // A crash in the middle of an append: half a record, no newline.
    const torn = '0badc0de {"k":"k5","v":"half';
    fs.appendFileSync(logFile, torn);
    const repair = run("store.js", ["--repair", "--data", dataDir]);
    expect(await repair.exited).toBe(0);
    expect(repair.output()).toContain(
      `truncated a torn last record of ${torn.length} bytes at byte ${goodSize}`,
    );
    expect(fs.statSync(logFile).size).toBe(goodSize);

    const again = run("store.js", ["--repair", "--data", dataDir]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/is clean \(5 records\)/);

    // A complete line with a bad checksum at the end is torn too; the store itself skips it.
    fs.appendFileSync(logFile, '0badc0de {"k":"k5","v":"half"}\n');
    p = await startStore(sp, dataDir);
    expect(p.output()).toMatch(/ignored the torn last record/);
    expect(Object.keys(await storeContents(sp)).sort()).toEqual(["k0", "k1", "k2", "k3", "k4"]);
    // ... and appends after it cleanly.
    expect(await put(`http://127.0.0.1:${sp}/kv/k5`, "whole")).toBe(204);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    await startStore(sp, dataDir);
    expect((await storeContents(sp)).k5).toBe("whole");
  });

  it("the store refuses to start on a corrupt record before the last one", async () => {
    const dataDir = path.join(tmp, "data");
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, "store.log"), 'garbage\n0badc0de {"k":"a","v":"b"}\n');
    const p = run("store.js", ["--data", dataDir, "--port", String(await allocatePort())]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/corrupt/);
  });
});
