/**
 * Rolling node maintenance (issue 12 §2) — real daemons on a real PostgreSQL, 3 nodes on
 * 127.0.0.1–3: `steward cluster drain n2` under a request loop through n1's and n3's edges takes
 * n2 out with no failed request, its `nodes: any` replica placed on another node before it stops
 * (the count never drops); `undrain` brings it back into routing. Refusals: an unknown node, a
 * node that is not drained, the last node serving a component.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import { freePort, node, steward, waitFor } from "./helpers.js";
import { get } from "../cluster/http-get.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

const components = `  web:
    command: ${node("node-echo.js")}
    env: { PORT: "\${port}", REPLICA: "\${replica}" }
    restart: { policy: "no" }
    replicas: 2
    ready: { log: "listening on", within: 10s }
  work:
    command: ${node("forever.js")}
    placement: { nodes: any, replicas: 2, max_per_node: 2 }
`;

/** n3's cluster view; a read the busy machine let time out (1 s) is tried again. */
async function view(): Promise<Awaited<ReturnType<TestCluster["view"]>>> {
  for (let i = 0; ; i += 1) {
    try {
      return await c.view("n3");
    } catch (err) {
      if (i === 3) throw err;
    }
  }
}

/** Ready replicas per component and node, as the store says (n3's cluster view). */
async function ready(): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for (const n of (await view()).nodes)
    for (const r of n.replicas ?? [])
      if (r.state === "ready") {
        const m = out.get(r.component) ?? new Map<string, number>();
        m.set(n.name, (m.get(n.name) ?? 0) + 1);
        out.set(r.component, m);
      }
  return out;
}
const total = (m: Map<string, number> | undefined): number => [...(m ?? [])].reduce((a, [, k]) => a + k, 0);

/** web replicas in `from`'s routing that run on `on`. */
async function routedTo(from: string, on: string): Promise<number> {
  const web = (await c.status(from)).routing?.find((x) => x.component === "web");
  if (from === on) return (web?.replicas ?? []).filter((r) => r.state === "in").length;
  return (web?.remote ?? []).filter((r) => r.node === on && r.state === "in").length;
}

describe("cluster drain and undrain", () => {
  it("drain n2 under load: routed around, its nodes:any replica placed elsewhere first, 0 failed; undrain brings it back", async () => {
    c = await TestCluster.create("drain", 3, components);
    const port = await freePort();
    for (const n of c.nodes)
      fs.appendFileSync(
        path.join(n.dir, "steward.yaml"),
        `routes:\n  - { listen: "${n.advertise}:${port}", to: web }\n`,
      );
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
    await waitFor(
      "n1 routing to n2's and n3's replicas",
      async () => (await routedTo("n1", "n2")) + (await routedTo("n1", "n3")) === 4,
      15_000,
      50,
    );
    await waitFor("work placed and ready", async () => total((await ready()).get("work")) === 2, 15_000, 50);
    // Drain a node that runs work (which ones do depends on which node's daemon came up first).
    const work0 = (await ready()).get("work")!;
    const target = work0.has("n2") ? "n2" : [...work0.keys()].sort()[0]!;
    const [a, b] = ["n1", "n2", "n3"].filter((n) => n !== target) as [string, string];
    const addr = (n: string): string => c.node(n).advertise;
    console.log(`[figure] work placed ${JSON.stringify([...work0])}; draining ${target}`);

    let stop = false;
    const results: { ok: boolean; node: string; error?: string }[] = [];
    const loop = async (host: string): Promise<void> => {
      while (!stop) {
        try {
          const r = await get(host, port);
          results.push(
            r.status === 200
              ? { ok: true, node: r.body.split(" ")[0]! }
              : { ok: false, node: "", error: `${r.status} ${r.body}` },
          );
        } catch (err) {
          results.push({ ok: false, node: "", error: (err as Error).message });
        }
      }
    };
    let lowestWork = Infinity;
    let pollError: string | undefined;
    const poll = async (): Promise<void> => {
      // A failed test closes the cluster under this loop: it ends on the first error.
      while (!stop) {
        try {
          lowestWork = Math.min(lowestWork, total((await ready()).get("work")));
        } catch (err) {
          pollError = (err as Error).message;
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const running = [loop(addr(a)), loop(addr(a)), loop(addr(b)), loop(addr(b)), poll()];
    await new Promise((r) => setTimeout(r, 300));

    const t0 = Date.now();
    const drained = await steward(c.node(a).dir, "cluster", "drain", target);
    const drainMs = Date.now() - t0;
    console.log(`[figure] drain ${target}: ${drainMs} ms\n${drained.stdout}`);
    expect(drained.code, drained.stdout + drained.stderr).toBe(0);
    expect(drained.stdout).toMatch(new RegExp(`${target} drained in`));
    const servedAfterDrain = results.length;

    // n2 runs nothing, is routed around, and says so.
    const doc2 = await c.status(target);
    expect(doc2.components.flatMap((x) => x.replicas).filter((r) => r.pid !== null)).toEqual([]);
    expect(await routedTo(a, target)).toBe(0);
    expect(await routedTo(b, target)).toBe(0);
    expect((await view()).nodes.find((n) => n.name === target)?.drain).toBe("drained");
    const st = await steward(c.node(a).dir, "cluster", "status");
    const text = st.stdout + st.stderr;
    expect(text).toMatch(new RegExp(`${target}\\s+up \\(drained\\)`));
    const work = (await ready()).get("work");
    expect(total(work)).toBe(2);
    expect(work?.get(target)).toBeUndefined();

    // Refusals: nothing changes.
    const unknown = await steward(c.node(a).dir, "cluster", "drain", "n9");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no node `n9` in the cluster; its nodes are n1, n2, n3/);
    const notDrained = await steward(c.node(a).dir, "cluster", "undrain", b);
    expect(notDrained.code).toBe(1);
    expect(notDrained.stderr).toMatch(new RegExp(`cluster undrain ${b} refused: ${b} is not drained`));
    expect((await steward(c.node(b).dir, "stop", "web")).code).toBe(0);
    const last = await steward(c.node(b).dir, "cluster", "drain", a);
    console.log(`[figure] refusal: ${last.stderr.trim()}`);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(
      new RegExp(
        `cluster drain ${a} refused: ${a} is the last node serving web \\(2 ready replica\\(s\\) there, none elsewhere\\)`,
      ),
    );
    expect((await view()).nodes.find((n) => n.name === a)?.drain).toBeNull();
    expect((await steward(c.node(b).dir, "start", "web")).code).toBe(0);

    const t1 = Date.now();
    const back = await steward(c.node(b).dir, "cluster", "undrain", target);
    console.log(`[figure] undrain ${target}: ${Date.now() - t1} ms\n${back.stdout}`);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    await waitFor(
      "routing to the drained node's replicas again",
      async () => (await routedTo(a, target)) === 2,
      10_000,
      50,
    );
    await waitFor(
      "the drained node's replicas answer again",
      async () => results.slice(servedAfterDrain).some((r) => r.node === target),
      10_000,
      50,
    );
    stop = true;
    await Promise.all(running);
    const failed = results.filter((r) => !r.ok);
    console.log(
      `[figure] drain + undrain under load: ${results.length} requests through ${a} and ${b}, ${failed.length} failed ${JSON.stringify(failed.slice(0, 5))}; lowest work ready over the cluster: ${lowestWork}`,
    );
    expect(failed).toEqual([]);
    expect(pollError).toBeUndefined();
    expect(lowestWork).toBeGreaterThanOrEqual(2);
    // No rebalancing: work stays where the drain put it.
    expect((await ready()).get("work")?.get(target)).toBeUndefined();
    expect((await view()).nodes.find((n) => n.name === target)?.drain).toBeNull();
  }, 150_000);
});
