/**
 * Rolling restart across the cluster (issue 12 §1) — real daemons on a real PostgreSQL, 3 nodes on
 * 127.0.0.1–3: `restart --cluster` goes node by node under a request loop through two nodes'
 * edges with no failed request and never fewer ready replicas than `min_available` over the
 * cluster; a replacement that fails readiness halts it (the other nodes keep what they run); a
 * restart that could not keep `min_available` from the start is refused with the numbers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { freePort, node, steward, waitFor } from "./helpers.js";
import { get } from "../cluster/http-get.js";

let c: TestCluster;
let marks: string;
afterEach(async () => {
  await c?.close();
  fs.rmSync(marks, { recursive: true, force: true });
});

/** web: routed, replaced by surge; worker: one replica per node, stopped and started. */
function components(): string {
  marks = fs.mkdtempSync(path.join(os.tmpdir(), "stw-rolling-"));
  return `  web:
    command: ${node("node-echo.js")}
    env: { PORT: "\${port}", REPLICA: "\${replica}", HANG_IF: "${marks}/hang-\${node}" }
    restart: { policy: "no" }
    replicas: 2
    min_available: 2
    ready: { log: "listening on", within: 3s }
  worker:
    command: ${node("forever.js")}
    replicas: 1
    min_available: 1
`;
}

/** Three nodes, each with a route on its own address; every node's edge routing to all 6 web replicas. */
async function threeNodes(label: string): Promise<number> {
  c = await TestCluster.create(label, 3, components());
  const port = await freePort();
  for (const n of c.nodes)
    fs.appendFileSync(
      path.join(n.dir, "steward.yaml"),
      `routes:\n  - { listen: "${n.advertise}:${port}", to: web }\n`,
    );
  const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
  for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
  for (const n of ["n1", "n2"])
    await waitFor(
      `${n}'s edge routing to 6 replicas`,
      async () => {
        const web = (await c.status(n)).routing?.find((x) => x.component === "web");
        const inRouting = (list: { state: string }[]): number => list.filter((r) => r.state === "in").length;
        return web !== undefined && inRouting(web.replicas) + inRouting(web.remote ?? []) === 6;
      },
      15_000,
      50,
    );
  return port;
}

/** Ready replicas of each component over every node (no node goes down in these tests; a busy machine can make one look suspect), as n3's cluster view reads them from the store. */
async function readyCounts(): Promise<Map<string, number>> {
  const view = await c.view("n3");
  const counts = new Map<string, number>();
  for (const n of view.nodes)
    for (const r of n.replicas ?? [])
      if (r.state === "ready") counts.set(r.component, (counts.get(r.component) ?? 0) + 1);
  return counts;
}

async function pids(name: string, component: string): Promise<number[]> {
  const doc = await c.status(name);
  return (doc.components.find((x) => x.name === component)?.replicas ?? [])
    .map((r) => r.pid)
    .filter((p): p is number => p !== null)
    .sort();
}

/** The order the primary restarts nodes in: by name, the primary last. */
async function stepOrder(): Promise<string[]> {
  const primary = (await c.lease()).holder!;
  return [...c.nodes.map((n) => n.name).filter((n) => n !== primary), primary];
}

describe("rolling restart across the cluster", () => {
  it("restart --cluster replaces every node's replicas node by node: 0 failed requests through two edges, never under min_available", async () => {
    const port = await threeNodes("rolling");
    const before = new Map<string, number[]>();
    for (const n of c.nodes)
      before.set(n.name, [...(await pids(n.name, "web")), ...(await pids(n.name, "worker"))]);

    let stop = false;
    const results: { ok: boolean; error?: string }[] = [];
    const loop = async (host: string): Promise<void> => {
      while (!stop) {
        try {
          const r = await get(host, port);
          results.push(r.status === 200 ? { ok: true } : { ok: false, error: `${r.status} ${r.body}` });
        } catch (err) {
          results.push({ ok: false, error: (err as Error).message });
        }
      }
    };
    const lowest = new Map<string, number>([
      ["web", Infinity],
      ["worker", Infinity],
    ]);
    let polls = 0;
    const poll = async (): Promise<void> => {
      while (!stop) {
        const counts = await readyCounts();
        polls += 1;
        for (const k of lowest.keys()) lowest.set(k, Math.min(lowest.get(k)!, counts.get(k) ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const running = [loop("127.0.0.1"), loop("127.0.0.1"), loop("127.0.0.2"), loop("127.0.0.2"), poll()];
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const r = await steward(c.node("n1").dir, "restart", "--cluster");
    const took = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(running);
    const failed = results.filter((x) => !x.ok);
    console.log(
      `[figure] restart --cluster of 3 nodes × (2 web + 1 worker): ${took} ms; ${results.length} requests through n1 and n2, ${failed.length} failed ${JSON.stringify(failed.slice(0, 5))}; lowest ready over the cluster (${polls} polls): web ${lowest.get("web")}, worker ${lowest.get("worker")}`,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cluster: restart \(all\) done on 3 nodes/);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
    expect(polls).toBeGreaterThan(5);
    expect(lowest.get("web")).toBeGreaterThanOrEqual(2);
    expect(lowest.get("worker")).toBeGreaterThanOrEqual(1);
    // Every replica on every node was replaced.
    for (const n of c.nodes) {
      const now = [...(await pids(n.name, "web")), ...(await pids(n.name, "worker"))];
      expect(now).toHaveLength(3);
      for (const p of now) expect(before.get(n.name)).not.toContain(p);
    }
  }, 120_000);

  it("a replacement that fails readiness halts the restart, the rest keep serving; a restart that cannot keep min_available is refused", async () => {
    await threeNodes("rollhalt");
    const [first, ...rest] = await stepOrder();
    const webBefore = new Map<string, number[]>();
    for (const n of c.nodes) webBefore.set(n.name, await pids(n.name, "web"));
    fs.writeFileSync(path.join(marks, `hang-${first}`), "");

    const r = await steward(c.node("n1").dir, "restart", "web", "--cluster");
    console.log(`[figure] halted restart output:\n${r.stdout}`);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`✗ ${first}: failed: web:`));
    for (const n of rest)
      expect(r.stdout).toMatch(
        new RegExp(`✗ ${n}: skipped: not run: the restart halted after ${first}'s step failed`),
      );
    // Surge: the first node's old replicas still serve; the others were never touched.
    for (const n of c.nodes) expect(await pids(n.name, "web")).toEqual(webBefore.get(n.name));
    expect((await readyCounts()).get("web")).toBe(6);

    // worker stopped on two nodes: restarting the third would leave none, min_available is 1.
    fs.rmSync(path.join(marks, `hang-${first}`));
    for (const n of ["n2", "n3"]) expect((await steward(c.node(n).dir, "stop", "worker")).code).toBe(0);
    await waitFor("worker ready on n1 only", async () => (await readyCounts()).get("worker") === 1);
    const workerBefore = await pids("n1", "worker");
    const asked = async (): Promise<number> =>
      Number(
        (await pgAdmin<{ n: string }>("SELECT count(*) AS n FROM steward_cluster.operations", [], c.db))[0]!
          .n,
      );
    const opsBefore = await asked();
    const refused = await steward(c.node("n2").dir, "restart", "worker", "--cluster");
    console.log(`[figure] refusal: ${refused.stderr.trim()}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /worker: 1 ready in the cluster; restarting n1 may take 1 down, min_available is 1/,
    );
    expect(await asked()).toBe(opsBefore);
    expect(await pids("n1", "worker")).toEqual(workerBefore);
  }, 120_000);
});
