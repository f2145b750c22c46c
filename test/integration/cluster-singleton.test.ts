/**
 * A cluster singleton (`placement: { nodes: any, replicas: 1 }`) on 3 real daemons: its program
 * appends `<node> <pid> <ms>` to a ledger every 50 ms, so each run's interval is known even when
 * it is SIGKILLed. Across the holder's machine lost (SIGKILL of the daemon and its marked
 * processes), cut off from the store (its relay) and paused past the handover (SIGSTOP of the
 * daemon and its processes; the daemon resumed first), and its daemon alone paused (the fence
 * keeper ends the singleton), no two runs overlap.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import { markedPids, signalNode } from "../cluster/node-procs.js";
import { node, sleep, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

interface Run {
  node: string;
  pid: number;
  from: number;
  to: number;
}

/** Each run (pid) of the ledger, from its first tick to its last tick + one tick period. */
function runs(ledger: string): Run[] {
  const byPid = new Map<number, Run>();
  for (const line of fs.readFileSync(ledger, "utf8").split("\n")) {
    const [n, p, t] = line.split(" ");
    if (!n || !p || !t) continue;
    const pid = Number(p);
    const at = Number(t);
    const r = byPid.get(pid) ?? { node: n, pid, from: at, to: at };
    r.from = Math.min(r.from, at);
    r.to = Math.max(r.to, at);
    byPid.set(pid, r);
  }
  return [...byPid.values()].map((r) => ({ ...r, to: r.to + 60 })).sort((a, b) => a.from - b.from);
}

function overlaps(list: Run[]): [Run, Run][] {
  const out: [Run, Run][] = [];
  for (let i = 0; i < list.length; i += 1)
    for (let j = i + 1; j < list.length; j += 1)
      if (list[j]!.from < list[i]!.to) out.push([list[i]!, list[j]!]);
  return out;
}

/** The node whose run ticked within the last 200 ms, when exactly one did. */
function holder(ledger: string, after = 0): Run | undefined {
  const now = Date.now();
  const live = runs(ledger).filter((r) => r.to - 60 > now - 200 && r.from > after);
  return live.length === 1 ? live[0] : undefined;
}

describe("cluster singleton", () => {
  it("never runs on two nodes at once: across a lost node, a store cut and a pause", async () => {
    const ledger = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ledger-")), "ledger");
    fs.writeFileSync(ledger, "");
    c = await TestCluster.create(
      "singleton",
      3,
      `  cron:
    command: ${node("ledger.js", ledger)}
    placement: { nodes: any, replicas: 1 }
    stop: { grace: 500ms }
    drain: { timeout: 100ms }
`,
    );
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout).toBe(0);
    const figures: number[] = [];

    /** Waits for a run on another node than `old` to start after `t0`; returns it. */
    const handover = async (what: string, old: string, t0: number): Promise<Run> => {
      const next = await waitFor(
        `the singleton on another node after ${what}`,
        () => {
          const h = holder(ledger, t0);
          return h !== undefined && h.node !== old && h;
        },
        20_000,
        25,
      );
      figures.push(next.from - t0);
      console.log(`[figure] singleton handover after ${what}: ${next.from - t0} ms`);
      expect(overlaps(runs(ledger))).toEqual([]);
      return next;
    };

    // 1. The holder's machine is lost; it comes back and starts nothing.
    const first = await waitFor("the singleton running", () => holder(ledger), 15_000, 25);
    let t0 = Date.now();
    signalNode(c.node(first.node).dir, "SIGKILL");
    const second = await handover("a lost node", first.node, t0);
    const back = await c.up(first.node);
    expect(back.code, back.stdout).toBe(0);
    await sleep(1500);
    expect(markedPids(c.node(first.node).dir, "cron")).toEqual([]);

    // 2. The holder is cut off from the store: it stops the singleton itself, another takes it.
    t0 = Date.now();
    c.node(second.node).relay.cut();
    const third = await handover("a store cut", second.node, t0);
    expect(markedPids(c.node(second.node).dir, "cron")).toEqual([]);
    c.node(second.node).relay.restore();
    await sleep(1500); // back in the cluster: its assignment is 0
    expect(markedPids(c.node(second.node).dir, "cron")).toEqual([]);

    // 3. The holder's machine pauses past the handover; the daemon wakes first and kills it.
    const paused = c.node(third.node).dir;
    t0 = Date.now();
    signalNode(paused, "SIGSTOP");
    let fourth: Run;
    try {
      fourth = await handover("a pause", third.node, t0);
    } finally {
      signalNode(paused, "SIGCONT", "daemon");
      await sleep(300);
      signalNode(paused, "SIGCONT", "replicas");
    }
    await sleep(1000);
    expect(markedPids(paused, "cron")).toEqual([]);

    // 4. Only the holder's daemon pauses, its singleton's process runs on: the fence keeper ends it.
    const stopped = c.node(fourth.node).dir;
    t0 = Date.now();
    signalNode(stopped, "SIGSTOP", "daemon");
    try {
      await handover("a pause of the daemon alone", fourth.node, t0);
      expect(markedPids(stopped, "cron")).toEqual([]);
    } finally {
      signalNode(stopped, "SIGCONT", "daemon");
    }
    await sleep(1000);
    expect(markedPids(stopped, "cron")).toEqual([]);

    const all = runs(ledger);
    expect(overlaps(all)).toEqual([]);
    // Exactly one run at the end (ticks can come late on a loaded machine: wait for one).
    await waitFor("exactly one run ticking", () => {
      const now = Date.now();
      return runs(ledger).filter((r) => r.to - 60 > now - 300).length === 1;
    });
    expect(overlaps(runs(ledger))).toEqual([]);
    for (let i = 1; i < all.length; i += 1)
      console.log(
        `[figure] gap between runs: ${all[i]!.from - all[i - 1]!.to + 60} ms (${all[i - 1]!.node} → ${all[i]!.node})`,
      );
    expect(figures).toHaveLength(4);
  }, 100_000);
});
