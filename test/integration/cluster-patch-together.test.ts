/**
 * `steward patch cutover --strategy together` on 3 real nodes: every node starts its new replicas,
 * all switch at one journaled commit point (steward_cluster.cutover_commits), then retire the old —
 * under a request loop with no failed request. SIGKILL of the primary's daemon during each step of
 * its cutover (start-new, waiting at the commit point, retire-old): once the killed daemon is back,
 * every node ends consistent — one edition serving on each, the new one on all.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { daemonPid, type TestCluster } from "../cluster/nodes.js";
import { get, startPatchCluster, writePatch } from "../cluster/patch-cluster.js";
import { nodeSchemaName } from "../../src/cluster/schema-name.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { steward, stewardWith, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

/** prepare, apply (a v2 whose replicas take 300 ms to listen), finalize — from n1. */
async function readyToCut(): Promise<void> {
  expect((await steward(c.node("n1").dir, "patch", "prepare")).code).toBe(0);
  const v2 = writePatch(c.node("n1").dir, "v2", { "version.txt": "2\n", "ready-delay.txt": "300\n" });
  const applied = await steward(c.node("n1").dir, "patch", "apply", v2);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  expect((await steward(c.node("n1").dir, "patch", "finalize")).code).toBe(0);
}

/** The edition each node's web replicas run from (read from /proc), per node. */
async function editionsServing(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const n of c.nodes) {
    const doc = await c.status(n.name);
    const pids = doc.components
      .filter((x) => x.name === "web")
      .flatMap((x) => x.replicas)
      .flatMap((r) => (r.pid === null ? [] : [r.pid]));
    out[n.name] = [...new Set(pids.map((pid) => path.basename(fs.realpathSync(`/proc/${pid}/cwd`))))];
  }
  return out;
}

describe("cutover --strategy together", () => {
  it("under load: one commit point for all three nodes, 0 failed requests, every node on the new edition", async () => {
    let port: number;
    ({ c, port } = await startPatchCluster("together"));
    await readyToCut();
    let stop = false;
    const results: { ok: boolean; error?: string }[] = [];
    const loop = async (host: string): Promise<void> => {
      while (!stop)
        try {
          const r = await get(host, port);
          results.push(r.status === 200 ? { ok: true } : { ok: false, error: `${r.status} ${r.body}` });
        } catch (err) {
          results.push({ ok: false, error: (err as Error).message });
        }
    };
    const running = [loop("127.0.0.1"), loop("127.0.0.2"), loop("127.0.0.3")];
    const t0 = Date.now();
    const cut = await steward(c.node("n3").dir, "patch", "cutover", "--strategy", "together");
    const ms = Date.now() - t0;
    stop = true;
    await Promise.all(running);
    console.log(`[figure] together cutover: ${ms} ms\n${cut.stdout}`);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/patch cutover done on 3 nodes/);
    const commits = await pgAdmin<{ decision: string; reason: string }>(
      "SELECT decision, reason FROM steward_cluster.cutover_commits",
      [],
      c.db,
    );
    expect(commits).toEqual([
      { decision: "switch", reason: "every node's new replicas are ready (n1, n2, n3)" },
    ]);
    const failed = results.filter((r) => !r.ok);
    console.log(
      `[figure] together cutover under load: ${results.length} requests through 3 edges, ${failed.length} failed ${JSON.stringify(failed.slice(0, 5))}`,
    );
    expect(failed).toEqual([]);
    expect(await editionsServing()).toEqual({ n1: ["fs2"], n2: ["fs2"], n3: ["fs2"] });
  }, 180_000);

  for (const at of ["start-new", "commit point", "retire-old"]) {
    it(`SIGKILL of the primary's daemon at ${at}: every node ends on the new edition, one edition serving on each`, async () => {
      ({ c } = await startPatchCluster("togetherkill"));
      await readyToCut();
      const primary = (await c.lease()).holder!;
      const others = c.nodes.filter((n) => n.name !== primary);
      const cut = stewardWith(
        { timeoutMs: 90_000 },
        others[0]!.dir,
        "patch",
        "cutover",
        "--strategy",
        "together",
      );
      const schema = nodeSchemaName(primary);
      await waitFor(
        `the primary ${primary} at ${at}`,
        async () =>
          (
            await pgAdmin(
              at === "commit point"
                ? "SELECT 1 FROM steward_cluster.cutover_votes WHERE node = $1"
                : `SELECT 1 FROM ${schema}.operation_steps WHERE name = $1`,
              [at === "commit point" ? primary : at],
              c.db,
            )
          ).length > 0,
        30_000,
        5,
      );
      process.kill(daemonPid(c.node(primary).dir)!, "SIGKILL");
      const r = await cut;
      console.log(`[figure] together, primary ${primary} killed at ${at}:\n${r.stdout}${r.stderr}`);
      const back = await c.up(primary);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      // Whatever the commit point decided, the cluster converges: run again if it rolled back.
      if (r.code !== 0) {
        const again = await stewardWith(
          { timeoutMs: 90_000 },
          others[0]!.dir,
          "patch",
          "cutover",
          "--strategy",
          "together",
        );
        console.log(`[figure] cutover run again:\n${again.stdout}${again.stderr}`);
      }
      await waitFor(
        "every node on fs2 with one edition serving, no node marked resync",
        async () => {
          const serving = await editionsServing();
          const marks = await pgAdmin("SELECT 1 FROM steward_cluster.node_resyncs", [], c.db);
          return (
            marks.length === 0 &&
            c.nodes.every((n) => fs.readlinkSync(path.join(n.dir, "editions", "run")) === "fs2") &&
            Object.values(serving).every((e) => e.length === 1 && e[0] === "fs2")
          );
        },
        60_000,
        200,
      );
      expect(await editionsServing()).toEqual({ n1: ["fs2"], n2: ["fs2"], n3: ["fs2"] });
    }, 240_000);
  }
});
