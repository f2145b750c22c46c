/**
 * Losing the primary, pausing it, and cutting a node off the store — real daemons on a real
 * PostgreSQL, each node behind its own relay (test/cluster). Timings: heartbeat 200 ms, 2 allowed
 * misses (down after 600 ms), lease 2 s. Figures measured are printed for the report.
 */
import { afterEach, describe, expect, it } from "vitest";
import { daemonPid, defaultComponents, TestCluster, TIMING } from "../cluster/nodes.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { alive, node, sleep, steward, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

async function threeUp(label: string, components?: string): Promise<{ primary: string; epoch: number }> {
  c = await TestCluster.create(label, 3, components);
  const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
  for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
  return waitFor("a primary", async () => {
    const l = await c.lease();
    return l.live && l.holder !== null && { primary: l.holder, epoch: l.epoch };
  });
}

const others = (name: string): string[] => c.nodes.map((n) => n.name).filter((n) => n !== name);
const stateIn = async (viewer: string, node: string): Promise<string | undefined> =>
  (await c.view(viewer)).nodes.find((n) => n.name === node)?.state;
const pidsOf = async (name: string): Promise<(number | null)[]> =>
  (await c.status(name)).components.flatMap((x) => x.replicas.map((r) => r.pid));
const figure = (what: string, ms: number): void => console.log(`[figure] ${what}: ${ms} ms`);

describe("primary failover", () => {
  it("a killed primary's lease is taken by another node within lease + heartbeat, at a higher epoch", async () => {
    const before = await threeUp("failkill");
    const pid = daemonPid(c.node(before.primary).dir)!;
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    const after = await waitFor(
      "another primary",
      async () => {
        const l = await c.lease();
        return l.live && l.holder !== null && l.holder !== before.primary && l;
      },
      TIMING.leaseMs + TIMING.heartbeatMs + 5000,
      10,
    );
    const took = Date.now() - t0;
    figure("failover after SIGKILL of the primary's daemon", took);
    expect(took).toBeLessThanOrEqual(TIMING.leaseMs + TIMING.heartbeatMs + 300); // + the poll and spawn slack
    expect(after.epoch).toBe(before.epoch + 1);
    expect(others(before.primary)).toContain(after.holder);
    // Every survivor sees it down, and the new primary as primary.
    for (const o of others(before.primary)) {
      const v = await c.view(o);
      expect(v.primary).toBe(after.holder);
      expect(v.nodes.find((n) => n.name === before.primary)?.state).toBe("down");
    }
    // Its daemon restarted (same host and home) takes its name over at once and re-adopts its replicas.
    const r = await c.up(before.primary);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await waitFor("the node up again", async () => (await stateIn(after.holder!, before.primary)) === "up");
    expect((await c.lease()).holder).toBe(after.holder); // no flapping back
  });

  it("a paused primary (SIGSTOP past its lease) wakes up without writing as primary", async () => {
    // A placed component and a cluster operation: the primary's placement and operation writes
    // go through the fence too, and are counted with its record's.
    const before = await threeUp(
      "failpause",
      `${defaultComponents()}  work:
    command: ${node("forever.js")}
    placement: { nodes: any, replicas: 2, max_per_node: 1 }
`,
    );
    const old = before.primary;
    const op = await steward(c.node(old).dir, "restart", "web", "--cluster");
    expect(op.code, op.stdout + op.stderr).toBe(0);
    const counted = await waitFor("fenced writes of every writer accepted", async () => {
      const w = (await c.status(old)).cluster!.fencedWrites;
      return w.by.record.accepted > 0 && w.by.placement.accepted > 0 && w.by.operations.accepted > 0 && w;
    });
    expect(counted.accepted).toBe(
      counted.by.record.accepted + counted.by.placement.accepted + counted.by.operations.accepted,
    );
    const pid = daemonPid(c.node(old).dir)!;
    process.kill(pid, "SIGSTOP");
    const t0 = Date.now();
    let after: { holder: string | null; epoch: number };
    try {
      after = await waitFor(
        "another primary",
        async () => {
          const l = await c.lease();
          return l.live && l.holder !== old && l;
        },
        TIMING.leaseMs + TIMING.heartbeatMs + 5000,
        10,
      );
      figure("failover after SIGSTOP of the primary's daemon", Date.now() - t0);
      expect(after.epoch).toBeGreaterThan(before.epoch);
      // Let the new primary publish, then stay paused well past the old term.
      await sleep(TIMING.leaseMs);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const record = async (): Promise<{ node: string; epoch: number }> => {
      const rows = await pgAdmin<{ node: string; epoch: string }>(
        "SELECT node, epoch FROM steward_cluster.primary_record",
        [],
        c.db,
      );
      return { node: rows[0]!.node, epoch: Number(rows[0]!.epoch) };
    };
    // Right after waking, and for several heartbeats after: the old primary does not act.
    const first = await c.status(old);
    expect(first.cluster!.primary).toBe(false);
    const accepted = first.cluster!.fencedWrites.accepted;
    const acceptedBy = structuredClone(first.cluster!.fencedWrites.by);
    // Work for a primary while the old one is awake again: a placement to change (the old
    // primary's replicas of \`work\` elsewhere now) and an operation to drive.
    const asked = await steward(c.node(old).dir, "start", "--cluster");
    expect(asked.code, asked.stdout + asked.stderr).toBe(0);
    for (let i = 0; i < 10; i += 1) {
      expect(await record()).toEqual({ node: after.holder, epoch: after.epoch });
      await sleep(TIMING.heartbeatMs);
    }
    const last = await c.status(old);
    expect(last.cluster!.fencedWrites.accepted).toBe(accepted); // 0 accepted after resume
    for (const w of ["record", "placement", "operations"] as const)
      expect(last.cluster!.fencedWrites.by[w].accepted, w).toBe(acceptedBy[w].accepted);
    expect(last.cluster!.primary).toBe(false);
    expect(last.cluster!.terms.lastStepDown).toMatch(/term elapsed|held by another|renewal failed/);
    expect(last.cluster!.link).toBe("connected");
    console.log(
      `[figure] paused primary after resume: ${last.cluster!.fencedWrites.rejected} fenced write(s) rejected, 0 accepted; stepped down: ${last.cluster!.terms.lastStepDown}`,
    );
    expect((await c.lease()).holder).toBe(after.holder);
  });
});

describe("a node cut off from the store", () => {
  it("keeps its replicas (same pids), is suspect then down for the others, stops acting as primary, and rejoins", async () => {
    const before = await threeUp("cut");
    const cut = before.primary; // the hardest case: the primary itself
    const viewer = others(cut)[0]!;
    const pids = await pidsOf(cut);
    expect(pids.every((p) => p !== null)).toBe(true);
    const t0 = Date.now();
    c.node(cut).relay.cut();
    const seen: string[] = [];
    await waitFor(
      "the cut node down in another's view",
      async () => {
        const s = await stateIn(viewer, cut);
        if (s !== undefined && seen.at(-1) !== s) seen.push(s);
        return s === "down";
      },
      10_000,
      20,
    );
    figure("store cut → down in another node's view", Date.now() - t0);
    expect(seen).toContain("suspect");
    const mine = await c.status(cut);
    expect(mine.cluster).toMatchObject({ link: "unreachable", primary: false });
    const taken = await waitFor("a new primary", async () => {
      const l = await c.lease();
      return l.live && l.holder !== cut && l;
    });
    expect(taken.epoch).toBeGreaterThan(before.epoch);
    await sleep(1000);
    expect(await pidsOf(cut)).toEqual(pids);
    expect(pids.every((p) => alive(p!))).toBe(true);

    c.node(cut).relay.restore();
    const t1 = Date.now();
    await waitFor("the node up again", async () => (await stateIn(viewer, cut)) === "up", 10_000, 20);
    figure("store restored → up in another node's view", Date.now() - t1);
    await waitFor("its link connected", async () => (await c.status(cut)).cluster!.link === "connected");
    const back = await c.status(cut);
    expect(back.components.flatMap((x) => x.replicas.map((r) => [r.pid, r.restarts]))).toEqual(
      pids.map((p) => [p, 0]),
    );
    expect((await c.lease()).holder).toBe(taken.holder); // it does not take the lease back
  });
});
