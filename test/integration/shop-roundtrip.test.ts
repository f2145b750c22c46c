/**
 * The demo's promise: `up` → writes → `down` keeps every acknowledged write. The engines hold
 * acknowledged writes in a write-back cache; only the stop budget's drain hook (and their SIGTERM
 * handler) moves them to the store before they exit.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, homeOf, project, sleep, status, steward } from "./helpers.js";

const SHOP = path.resolve(import.meta.dirname, "..", "..", "examples", "shop");

/** Two free ports `<prefix>0` and `<prefix>1`, as the shop's engines expect. */
async function enginePrefix(): Promise<string> {
  const { createServer } = await import("node:net");
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer().once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (let i = 0; i < 200; i++) {
    const prefix = String(2000 + Math.floor(Math.random() * 4000));
    if ((await free(Number(`${prefix}0`))) && (await free(Number(`${prefix}1`)))) return prefix;
  }
  throw new Error("no two free engine ports");
}

async function put(url: string, value: string): Promise<number> {
  const res = await fetch(url, { method: "PUT", body: value });
  await res.arrayBuffer();
  return res.status;
}

/** Reads every key of a store data directory by running the store program alone. */
async function storeContents(dataDir: string): Promise<Record<string, string>> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(SHOP, "store.js"), "--data", dataDir, "--port", String(port)],
    {
      stdio: "ignore",
    },
  );
  try {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/kv`);
        if (res.ok) return (await res.json()) as Record<string, string>;
      } catch {
        await sleep(50);
      }
    }
    throw new Error("the store did not answer");
  } finally {
    child.kill("SIGKILL");
  }
}

describe("examples/shop under Steward", () => {
  it("up → writes → down keeps every acknowledged write in the store", async () => {
    const dir = project(fs.readFileSync(path.join(SHOP, "steward.yaml"), "utf8"));
    for (const f of fs.readdirSync(SHOP).filter((f) => f.endsWith(".js")))
      fs.copyFileSync(path.join(SHOP, f), path.join(dir, f));
    process.env.SHOP_STORE_PORT = String(await freePort());
    const prefix = (process.env.SHOP_ENGINE_PORT_PREFIX = await enginePrefix());

    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect((await status(dir)).components.flatMap((c) => c.replicas.map((r) => r.state))).toEqual(
      Array(5).fill("ready"),
    );

    // Our own writes, acknowledged (202) by the engines' write-back caches, alongside the scheduler's.
    const acked: string[] = [];
    for (let i = 0; i < 40; i++) {
      const key = `t-${i}`;
      if ((await put(`http://127.0.0.1:${prefix}${i % 2}/kv/${key}`, `v${i}`)) === 202) acked.push(key);
    }
    expect(acked).toHaveLength(40);
    await sleep(700); // a few scheduler ticks, some still only in a cache when `down` begins

    const down = await steward(dir, "down");
    expect(down.code, down.stdout + down.stderr).toBe(0);

    const ledger = fs
      .readFileSync(path.join(homeOf(dir), "data", "acked.txt"), "utf8")
      .split("\n")
      .filter(Boolean);
    expect(ledger.length).toBeGreaterThan(0);
    const stored = await storeContents(path.join(homeOf(dir), "data"));
    const missing = [...acked, ...ledger].filter((k) => !(k in stored));
    expect(missing).toEqual([]);
    expect(stored["t-7"]).toBe("v7");
    // The drain hook did the flushing: each engine's log shows it before the SIGTERM.
    for (const i of [0, 1]) {
      const log = fs.readFileSync(path.join(homeOf(dir), "logs", "engine", `${i}.log`), "utf8");
      expect(log.indexOf("flush requested")).toBeGreaterThanOrEqual(0);
      expect(log.lastIndexOf("flush requested")).toBeLessThan(log.lastIndexOf("SIGTERM"));
    }
  });
});
