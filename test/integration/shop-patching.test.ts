/**
 * The shop's patch cycle (examples/shop-patching, examples/shop/patches): a patch whose verify
 * fails is refused by finalize and the cycle aborted; the next cycle resyncs, applies
 * engine-version-2 (which needs its build step), and cuts over while clients keep reading
 * `/version` through the edge — no request fails, and every answer after the cutover is version 2.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, project, status, steward } from "./helpers.js";

const EXAMPLES = path.resolve(import.meta.dirname, "..", "..", "examples");
const saved = { store: process.env.SHOP_STORE_PORT, edge: process.env.SHOP_EDGE_PORT };

async function version(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/version`);
  const body = (await res.json()) as { version: string };
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return body.version;
}

describe("examples/shop-patching", () => {
  let edge = 0;
  beforeAll(async () => {
    process.env.SHOP_STORE_PORT = String(await freePort());
    edge = await freePort();
    process.env.SHOP_EDGE_PORT = String(edge);
  });
  afterAll(() => {
    for (const [k, v] of [
      ["SHOP_STORE_PORT", saved.store],
      ["SHOP_EDGE_PORT", saved.edge],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("refuses a patch whose verify fails, then cuts over engine-version-2 under load with no failed request", async () => {
    const dir = project(fs.readFileSync(path.join(EXAMPLES, "shop-patching", "steward.yaml"), "utf8"));
    fs.cpSync(path.join(EXAMPLES, "shop"), path.join(dir, "shop"), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.steward`),
    });
    const patches = path.join(dir, "shop", "patches");
    const run = async (...args: string[]): Promise<string> => {
      const r = await steward(dir, ...args);
      expect(r.code, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await run("patch", "init", "--from", "shop");
    expect(fs.existsSync(path.join(dir, ".steward", "editions", "fs1", "patches"))).toBe(false); // excluded
    await run("up");
    expect(await version(edge)).toBe("1");

    await run("patch", "prepare");
    await run(
      "patch",
      "apply",
      path.join(patches, "engine-version-2"),
      path.join(patches, "broken-smoke-test"),
    );
    const finalize = await steward(dir, "patch", "finalize");
    expect(finalize.code).toBe(1);
    expect(finalize.stderr).toMatch(
      /verify 1 \(`node smoke-test.js`\) failed: exited with code 1; see .*logs\/1\/finalize\/broken-smoke-test\/01-verify\.log/,
    );
    await run("patch", "abort");

    await run("patch", "prepare"); // the aborted patch edition is copied from run again
    expect(fs.existsSync(path.join(dir, ".steward", "editions", "fs2", "smoke-test.js"))).toBe(false);
    await run("patch", "apply", path.join(patches, "engine-version-2"));
    expect(await version(edge)).toBe("1");
    await run("patch", "finalize");

    let stop = false;
    const answers: string[] = [];
    const loop = (async () => {
      while (!stop) answers.push(await version(edge).catch((err: Error) => `error: ${err.message}`));
    })();
    const cutover = await run("patch", "cutover");
    expect(cutover).toMatch(/switched: engine → 2, 3/);
    const after = answers.length;
    while (answers.length < after + 20) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await loop;
    expect(answers.filter((a) => a !== "1" && a !== "2")).toEqual([]);
    expect(answers.slice(after)).toEqual(Array(answers.length - after).fill("2"));
    const engine = (await status(dir)).components.find((c) => c.name === "engine")!;
    expect(engine.replicas.map((r) => r.state)).toEqual(["ready", "ready"]);
    expect(await run("patch", "history")).toMatch(/fs2 \(run\): engine-version-2/);
    await run("patch", "cleanup");
  });
});
