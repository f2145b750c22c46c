/**
 * Cluster membership on real daemons and a real PostgreSQL: three nodes n1..n3, each in its own
 * home, each reaching the store through its own relay (test/cluster). Node states are derived from
 * heartbeat ages by the database's clock, so every node reports the same view.
 */
import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import type { ClusterView } from "../../src/cluster/types.js";
import { api, freePort, node, project, steward, waitFor } from "./helpers.js";

let c: TestCluster;
// Runs before the helpers' own cleanup (hooks run in reverse order): nodes down, database dropped.
afterEach(async () => {
  await c?.close();
});

async function threeUp(): Promise<void> {
  c = await TestCluster.create("members", 3);
  const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
  for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
}

const envOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

describe("three nodes on one store", () => {
  it("register, agree on the view, elect one primary; replicas know their node", async () => {
    await threeUp();

    // Every node, asked, tells the same: 3 up, one primary, each with its address and replicas.
    const views = await waitFor("all three up and one primary in every view", async () => {
      const vs = await Promise.all(c.nodes.map((n) => c.view(n.name)));
      const ok = vs.every(
        (v) =>
          v.primary !== null &&
          v.nodes.length === 3 &&
          v.nodes.every((n) => n.state === "up" && n.instance !== null),
      );
      return ok && vs;
    });
    const primaries = new Set(views.map((v) => `${v.primary}@${v.epoch}`));
    expect(primaries.size).toBe(1);
    for (const v of views) {
      expect(v.nodes.map((n) => [n.name, n.advertise, n.drift])).toEqual([
        ["n1", "127.0.0.1", false],
        ["n2", "127.0.0.2", false],
        ["n3", "127.0.0.3", false],
      ]);
      for (const n of v.nodes) {
        expect(n.replicas?.map((r) => [r.component, r.index, r.state])).toEqual([
          ["web", 0, "ready"],
          ["web", 1, "ready"],
        ]);
        expect(n.schema).toBe(`steward_node_${n.name}`);
        expect(n.instance).toBe(100);
      }
    }
    const lease = await c.lease();
    expect([lease.holder, lease.live]).toEqual([views[0]!.primary, true]);

    // Each node's status says the same thing in one line, and its replicas carry STEWARD_NODE.
    for (const n of c.nodes) {
      const s = await c.status(n.name);
      expect(s.cluster).toMatchObject({ node: n.name, advertise: n.advertise, link: "connected" });
      expect(s.cluster!.primary).toBe(n.name === lease.holder);
      const pid = s.components[0]!.replicas[0]!.pid!;
      expect(envOf(pid)).toMatchObject({ STEWARD_NODE: n.name, NODE_NAME: n.name });
      const text = await steward(n.dir, "status");
      expect(text.stdout).toMatch(
        new RegExp(
          `cluster: node ${n.name} \\(${n.advertise.replaceAll(".", "\\.")}\\) · store connected · .*nodes: 3 up`,
        ),
      );
    }
    const table = await steward(c.nodes[2]!.dir, "cluster", "status");
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`cluster: primary ${lease.holder} · epoch ${lease.epoch}`));
    expect(table.stdout).toMatch(/n3 \(this\)\s+up\s+127\.0\.0\.3/);
  });

  it("refuses a second daemon claiming a live node's name, naming the first; nothing is written", async () => {
    await threeUp();
    const first = await c.status("n1");
    const before = await c.view("n2");
    // Another home with the same node name (and the same store): its daemon must not start.
    const n1 = c.node("n1");
    const yaml = fs
      .readFileSync(`${n1.dir}/steward.yaml`, "utf8")
      .replace("advertise: 127.0.0.1", "advertise: 127.0.0.2");
    const dir = project(yaml);
    const r = await steward(dir, "up");
    expect(r.code).not.toBe(0);
    const said = r.stdout + r.stderr;
    expect(said).toMatch(/node name `n1` is taken by a live daemon/);
    expect(said).toContain(`pid ${first.daemon.pid}`);
    expect(said).toContain("advertises 127.0.0.1");
    expect(said).toMatch(/STW-5001|another name/);
    const after = await c.view("n2");
    const row = (v: typeof after): unknown => v.nodes.find((n) => n.name === "n1")?.pid;
    expect(row(after)).toBe(row(before));
    expect(after.nodes.find((n) => n.name === "n1")?.home).toBe(
      before.nodes.find((n) => n.name === "n1")?.home,
    );
  });

  it("drift: none for per-node keys and routes on the node's own address; a changed replicas on one node only", async () => {
    c = await TestCluster.create(
      "members",
      3,
      `  web:
    command: ${node("node-echo.js")}
    env: { PORT: "\${port}" }
    replicas: 2
    ready: { log: "listening on", within: 10s }
`,
    );
    // Each node's route listens on its own advertised address: each file differs from the others
    // in cluster.node, cluster.advertise and that listen address (wildcards: the unit test).
    const port = await freePort();
    for (const n of c.nodes)
      fs.appendFileSync(
        `${n.dir}/steward.yaml`,
        `routes:\n  - { listen: "${n.advertise}:${port}", to: web }\n`,
      );
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
    const healthy = await waitFor("all three up and one primary in every view", async () => {
      const vs = await Promise.all(c.nodes.map((n) => c.view(n.name)));
      return (
        vs.every((v) => v.primary !== null && v.nodes.filter((x) => x.state === "up").length === 3) && vs
      );
    });
    for (const v of healthy)
      expect(v.nodes.map((n) => [n.name, n.drift])).toEqual([
        ["n1", false],
        ["n2", false],
        ["n3", false],
      ]);
    for (const n of c.nodes) expect((await steward(n.dir, "cluster", "status")).stdout).not.toMatch(/drift/);

    const { holder } = await c.lease();
    const odd = c.nodes.find((n) => n.name !== holder)!;
    // A key that must be alike on every node, changed on one: that node drifts, and only it.
    const file = `${odd.dir}/steward.yaml`;
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("replicas: 2", "replicas: 3"));
    const restart = await steward(odd.dir, "daemon", "restart");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    await waitFor("drift seen on every node", async () => {
      const vs = await Promise.all(c.nodes.map((n) => c.view(n.name)));
      return vs.every((v) => v.nodes.find((n) => n.name === odd.name)?.drift === true);
    });
    for (const n of c.nodes) {
      const v = await c.view(n.name);
      expect(v.nodes.filter((x) => x.drift).map((x) => x.name)).toEqual([odd.name]);
    }
    expect((await steward(odd.dir, "cluster", "status")).stdout).toMatch(
      new RegExp(`${odd.name} \\(this\\).*drift`),
    );

    // The primary leaves: marked left, the lease is free at once and another node takes it.
    const before = await c.lease();
    const left = await steward(c.node(holder!).dir, "cluster", "leave");
    expect(left.code, left.stderr).toBe(0);
    const after = await waitFor(
      "another primary",
      async () => {
        const l = await c.lease();
        return l.live && l.holder !== holder && l;
      },
      1500,
    );
    expect(after.epoch).toBe(before.epoch + 1);
    const seen = await c.view(odd.name);
    expect(seen.nodes.find((n) => n.name === holder)?.state).toBe("left");
    expect((await c.status(holder!)).cluster).toMatchObject({ link: "left", primary: false });
  });

  it("two daemons claiming one name at the same moment: exactly one starts", async () => {
    c = await TestCluster.create("race", 1);
    const n1 = c.node("n1");
    const twin = project(
      fs
        .readFileSync(`${n1.dir}/steward.yaml`, "utf8")
        .replace("advertise: 127.0.0.1", "advertise: 127.0.0.2"),
    );
    try {
      const [a, b] = await Promise.all([c.up("n1"), steward(twin, "up")]);
      expect([a.code, b.code].filter((code) => code === 0)).toHaveLength(1);
      const loser = a.code === 0 ? b : a;
      expect(loser.stdout + loser.stderr).toMatch(/node name `n1` is taken by a live daemon: pid \d+/);
      const winner = a.code === 0 ? n1.dir : twin;
      const v = JSON.parse((await api(winner, "GET", "/v1/cluster")).body) as ClusterView;
      expect(v.nodes.map((n) => [n.name, n.advertise])).toEqual([
        ["n1", a.code === 0 ? "127.0.0.1" : "127.0.0.2"],
      ]);
    } finally {
      await steward(twin, "down"); // while the store is still there (the cluster's cleanup drops it)
    }
  });

  it("a daemon without cluster: answers cluster commands with STW-5003", async () => {
    c = await TestCluster.create("nocluster", 0);
    const dir = project(`name: solo\ncomponents:\n  web:\n    command: sleep 100\n`);
    expect((await steward(dir, "up")).code).toBe(0);
    const r = await steward(dir, "cluster", "status");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has no `cluster:` section: this daemon is not a cluster node/);
  });
});
