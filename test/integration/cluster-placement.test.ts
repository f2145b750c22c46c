/**
 * `placement: { nodes: any }` on real daemons (3 nodes, PostgreSQL through relays): N replicas over
 * the cluster, at most max_per_node on one; a lost node's share placed again on the survivors; a
 * returning node does not make N + 1. Counts are of real processes (by their node's marker).
 * Figures measured are printed for the report.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster, TIMING } from "../cluster/nodes.js";
import { markedPids, signalNode } from "../cluster/node-procs.js";
import { node, sleep, steward, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

const WORK = `  work:
    command: ${node("forever.js")}
    placement: { nodes: any, replicas: 3, max_per_node: 2 }
    stop: { grace: 500ms }
    drain: { timeout: 100ms }
  pinned:
    command: ${node("forever.js")}
    placement: { nodes: [n2] }
`;

const running = (names: string[]): Record<string, number> =>
  Object.fromEntries(names.map((n) => [n, markedPids(c.node(n).dir, "work").length]));
const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

describe("placement nodes: any", () => {
  it("places 3 over 3 nodes, re-places a lost node's share, and a returning node does not make 4", async () => {
    c = await TestCluster.create("placeany", 3, WORK);
    const all = c.nodes.map((n) => n.name);
    const ups = await Promise.all(all.map((n) => c.up(n)));
    for (const u of ups) expect(u.code, u.stdout).toBe(0);
    const first = await waitFor(
      "3 replicas of work running",
      () => {
        const r = running(all);
        return total(r) === 3 && r;
      },
      15_000,
      50,
    );
    for (const n of all) expect(first[n]).toBeLessThanOrEqual(2);
    // A list: only n2 runs `pinned`; the others say it is not placed here.
    expect(markedPids(c.node("n2").dir, "pinned").length).toBe(1);
    expect(markedPids(c.node("n1").dir, "pinned").length).toBe(0);
    const st = await steward(c.node("n1").dir, "status");
    expect(st.stdout).toContain("placement pinned: n2");
    expect(st.stdout).toContain("n1 not placed here");

    // Lose a node holding replicas (daemon and every marked process).
    const lost = all.find((n) => first[n]! > 0 && n !== c.nodes[0]!.name)!;
    const survivors = all.filter((n) => n !== lost);
    const t0 = Date.now();
    signalNode(c.node(lost).dir, "SIGKILL");
    let most = 0;
    await waitFor(
      "3 running on the survivors",
      () => {
        const r = running(survivors);
        most = Math.max(most, total(r));
        return total(r) === 3 && r;
      },
      15_000,
      20,
    );
    const took = Date.now() - t0;
    console.log(`[figure] nodes:any failover (SIGKILL of a node → 3 running again): ${took} ms`);
    // Detection (down after heartbeat × 3) + a poll + the primary's write + a poll + the start.
    expect(took).toBeLessThan(TIMING.heartbeatMs * 3 + 4000);
    expect(most).toBeLessThanOrEqual(3);
    for (const n of survivors) expect(markedPids(c.node(n).dir, "work").length).toBeLessThanOrEqual(2);

    // The node comes back: it reads its (now zero) assignment before starting anything.
    const back = await c.up(lost);
    expect(back.code, back.stdout).toBe(0);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      expect(total(running(all))).toBe(3);
      await sleep(50);
    }
    expect(markedPids(c.node(lost).dir, "work").length).toBe(0);
    const view = JSON.parse(
      (await steward(c.node(survivors[0]!).dir, "cluster", "status", "--json")).stdout,
    ) as {
      placement: {
        component: string;
        underPlaced: boolean;
        perNode: { node: string; assigned: number; running: number }[];
      }[];
    };
    const work = view.placement.find((p) => p.component === "work")!;
    expect(work.underPlaced).toBe(false);
    expect(work.perNode.find((n) => n.node === lost)).toMatchObject({ assigned: 0, running: 0 });
    expect(work.perNode.reduce((a, n) => a + n.assigned, 0)).toBe(3);
  }, 90_000);
});
