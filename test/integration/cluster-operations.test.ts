/**
 * `start|stop|restart --cluster` on 3 real nodes sharing a real PostgreSQL (test/cluster): one
 * operation in the shared journal, a step per node, driven by the primary; a node whose daemon is
 * killed mid-step finishes it after its restart; a killed primary's successor finishes the
 * operation. Each restart waits for a log line printed 1 s after spawn, so a step lasts long
 * enough to be interrupted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { daemonPid, TestCluster } from "../cluster/nodes.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { node, steward, waitFor } from "./helpers.js";

const COMPONENTS = `  web:
    command: ${node("prints-then-ready.js", 1000)}
    replicas: 2
    ready: { log: "ready to serve", within: 10s }
`;

interface StepRow {
  node: string;
  state: string;
  runs: number;
  outcome: string | null;
}

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

async function threeUp(label: string): Promise<string> {
  c = await TestCluster.create(label, 3, COMPONENTS);
  const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
  for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
  return waitFor("a primary", async () => {
    const l = await c.lease();
    return l.live && l.holder !== null && l.holder;
  });
}

const pidsOf = async (name: string): Promise<(number | null)[]> =>
  (await c.status(name)).components.flatMap((x) => x.replicas.map((r) => r.pid));
const statesOf = async (name: string): Promise<string[]> =>
  (await c.status(name)).components.flatMap((x) => x.replicas.map((r) => r.state));
const steps = (): Promise<StepRow[]> =>
  pgAdmin<StepRow>(
    "SELECT node, state, runs, outcome FROM steward_cluster.operation_steps ORDER BY node",
    [],
    c.db,
  );
const operation = async (): Promise<{ state: string; driver: string; epoch: number }> =>
  (
    await pgAdmin<{ state: string; driver: string; epoch: string }>(
      "SELECT state, driver, epoch FROM steward_cluster.operations",
      [],
      c.db,
    )
  ).map((r) => ({ ...r, epoch: Number(r.epoch) }))[0]!;

describe("cluster operations", () => {
  it("stop, start and restart --cluster act on every node; an unknown component is refused", async () => {
    await threeUp("clops");
    const [n1, n2, n3] = ["n1", "n2", "n3"];
    const bad = await steward(c.node(n2).dir, "restart", "wbe", "--cluster");
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/unknown component `wbe`/);
    expect(await pgAdmin("SELECT 1 FROM steward_cluster.operations", [], c.db)).toEqual([]);

    const stop = await steward(c.node(n2).dir, "stop", "--cluster");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    for (const n of [n1, n2, n3]) {
      expect(stop.stdout).toContain(`${n}: stop (all) … done (1 component stopped)`);
      expect(await statesOf(n)).toEqual(["stopped", "stopped"]);
    }
    expect(stop.stdout).toMatch(/cluster: stop \(all\) done on 3 nodes in/);

    const start = await steward(c.node(n3).dir, "start", "web", "--cluster");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    for (const n of [n1, n2, n3]) expect(await statesOf(n)).toEqual(["ready", "ready"]);

    const before = new Map<string, (number | null)[]>();
    for (const n of [n1, n2, n3]) before.set(n, await pidsOf(n));
    const t0 = Date.now();
    const restart = await steward(c.node(n1).dir, "restart", "--cluster");
    console.log(
      `[figure] restart --cluster, 3 nodes × 2 replicas (1 s to ready), one node at a time: ${Date.now() - t0} ms`,
    );
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    for (const n of [n1, n2, n3]) {
      const after = await pidsOf(n);
      expect(await statesOf(n)).toEqual(["ready", "ready"]);
      for (const pid of after) expect(before.get(n)).not.toContain(pid);
    }
    // Never two nodes at once (max_unavailable 1): the steps ran one after the other.
    const spans = await pgAdmin<{ node: string; started: string; finished: string }>(
      `SELECT s.node, s.started_at AS started, s.finished_at AS finished FROM steward_cluster.operation_steps s
       JOIN steward_cluster.operations o ON o.id = s.operation_id WHERE o.kind = 'restart' ORDER BY s.started_at`,
      [],
      c.db,
    );
    expect(spans).toHaveLength(3);
    for (let i = 1; i < spans.length; i += 1)
      expect(new Date(spans[i]!.started).getTime()).toBeGreaterThanOrEqual(
        new Date(spans[i - 1]!.finished).getTime(),
      );
  }, 120_000);

  it("a node whose daemon is killed mid-restart finishes its step once its daemon is back", async () => {
    const primary = await threeUp("clopsnode");
    const victim = ["n1", "n2", "n3"].find((n) => n !== primary)!;
    const before = await pidsOf(victim);
    const asked = steward(c.node(primary).dir, "restart", "--cluster");
    await waitFor(
      `${victim}'s step running`,
      async () => (await steps()).some((s) => s.node === victim && s.state === "running"),
      30_000,
    );
    process.kill(daemonPid(c.node(victim).dir)!, "SIGKILL");
    const up = await c.up(victim);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const r = await asked;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${victim}: restart (all) … running (again, after its daemon restarted)`);
    const mine = (await steps()).find((s) => s.node === victim)!;
    expect(mine).toMatchObject({ state: "done", runs: 2 });
    expect((await steps()).map((s) => s.state)).toEqual(["done", "done", "done"]);
    expect(await statesOf(victim)).toEqual(["ready", "ready"]);
    for (const pid of await pidsOf(victim)) expect(before).not.toContain(pid);
  }, 120_000);

  it("a node down when the operation begins: its step is skipped with the reason, the others do theirs, exit 1", async () => {
    const primary = await threeUp("clopsdown");
    const [down, asker] = ["n1", "n2", "n3"].filter((n) => n !== primary) as [string, string];
    process.kill(daemonPid(c.node(down).dir)!, "SIGKILL");
    await waitFor(
      `${down} down`,
      async () => (await c.view(asker)).nodes.find((n) => n.name === down)?.state === "down",
    );
    const r = await steward(c.node(asker).dir, "stop", "--cluster");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `✗ ${down}: skipped: node ${down} was down when the operation began \\(last heartbeat \\d+ ms ago\\)`,
      ),
    );
    expect(r.stdout).toMatch(/not done everywhere .*done on 2 of 3 nodes/);
    expect((await steps()).map((s) => [s.node, s.state])).toEqual(
      ["n1", "n2", "n3"].map((n) => [n, n === down ? "skipped" : "done"]),
    );
    for (const n of [primary, asker]) expect(await statesOf(n)).toEqual(["stopped", "stopped"]);
    expect((await operation()).state).toBe("done");
  }, 120_000);

  it("the primary killed mid-operation: the next primary finishes it from the journal", async () => {
    const primary = await threeUp("clopsprim");
    const asker = ["n1", "n2", "n3"].find((n) => n !== primary)!;
    const epoch = (await c.lease()).epoch;
    const asked = steward(c.node(asker).dir, "restart", "--cluster");
    await waitFor("a step running", async () => (await steps()).some((s) => s.state === "running"), 30_000);
    process.kill(daemonPid(c.node(primary).dir)!, "SIGKILL");
    const r = await asked;
    // The old primary's step came last (the driver goes last); it was down when its turn came.
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const op = await operation();
    expect(op.state).toBe("done");
    expect(op.driver).not.toBe(primary);
    expect(op.epoch).toBeGreaterThan(epoch);
    const all = await steps();
    for (const s of all)
      if (s.node === primary) {
        expect(s.state).toBe("skipped");
        expect(s.outcome).toMatch(new RegExp(`node ${primary} was down when its turn came`));
      } else expect(s.state).toBe("done");
    expect(r.stdout).toMatch(
      new RegExp(`✗ ${primary}: skipped: node ${primary} was down when its turn came`),
    );
  }, 120_000);
});
