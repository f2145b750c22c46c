import { afterEach, describe, expect, it } from "vitest";
import { HealthCounter } from "../../src/edge/health.js";
import { RoutingTable, type RoutingTransition } from "../../src/edge/index.js";
import type { HealthSpec } from "../../src/topology/types.js";
import { cleanup, component, ok, onCleanup, request, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

describe("HealthCounter", () => {
  it("turns unhealthy after `fall` failures in a row and healthy after `rise` passes in a row", () => {
    const c = new HealthCounter(2, 3);
    expect([c.record(false), c.record(true), c.record(false)]).toEqual([false, false, false]);
    expect(c.record(false)).toBe(true);
    expect(c.healthy).toBe(false);
    expect([c.record(true), c.record(true), c.record(false), c.record(true), c.record(true)]).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(c.record(true)).toBe(true);
    expect(c.healthy).toBe(true);
  });
});

describe("active health checks", () => {
  const health = (kind: "http" | "tcp"): HealthSpec =>
    kind === "http"
      ? { kind: "http", url: "/healthz", intervalMs: 100, timeoutMs: 200, fall: 2, rise: 2 }
      : {
          kind: "tcp",
          host: "127.0.0.1",
          port: "${port}",
          intervalMs: 100,
          timeoutMs: 200,
          fall: 2,
          rise: 2,
        };

  it("takes a failing replica out within interval × fall and brings it back after rise passes", async () => {
    let healthy = true;
    const a = await upstream((req, res) => {
      if (req.url === "/healthz") {
        res.writeHead(healthy ? 200 : 500).end();
        return;
      }
      ok("a")(req, res, "");
    });
    const b = await upstream(ok("b"));
    const { table, port } = await startEdge(undefined, [component("web", health("http"))]);
    const transitions: RoutingTransition[] = [];
    table.onTransition((t) => transitions.push(t));
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setReplica("web", 1, { port: b.port, ready: true });
    expect(table.snapshot()[0]?.detectionMs).toBe(200);

    await until(() => a.seen.some((s) => s.url === "/healthz"), 2_000, "a first health check");
    healthy = false;
    const state = (): string | undefined => table.snapshot()[0]?.replicas[0]?.state;
    const outAfter = await until(() => state() === "out", 2_000, "replica 0 out");
    // interval × fall = 200 ms, plus one probe's time and scheduling slack.
    expect(outAfter).toBeLessThanOrEqual(200 + 350);
    expect(table.snapshot()[0]?.replicas[0]?.reason).toMatch(
      /^health failed: http http:\/\/127\.0\.0\.1:\d+\/healthz: 500$/,
    );

    const before = a.seen.filter((s) => s.url !== "/healthz").length;
    for (let i = 0; i < 4; i++) expect((await request(port)).body).toBe("b");
    expect(a.seen.filter((s) => s.url !== "/healthz").length).toBe(before);

    healthy = true;
    const inAfter = await until(() => state() === "in", 2_000, "replica 0 back in");
    expect(inAfter).toBeGreaterThanOrEqual(100); // needs two passing checks, 100 ms apart
    expect(inAfter).toBeLessThanOrEqual(200 + 350);
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await request(port)).body);
    expect(bodies.sort()).toEqual(["a", "a", "b", "b"]);

    const mine = transitions.filter((t) => t.index === 0).map((t) => [t.from, t.to]);
    expect(mine).toEqual([
      [null, "not-ready"],
      ["not-ready", "in"],
      ["in", "out"],
      ["out", "in"],
    ]);
  });

  it("tcp checks take a replica whose port closed out", async () => {
    const a = await upstream(ok("a"));
    const { table } = await startEdge(undefined, [component("web", health("tcp"))]);
    table.setReplica("web", 0, { port: a.port, ready: true });
    await a.close();
    const after = await until(() => table.snapshot()[0]?.replicas[0]?.state === "out", 2_000, "out");
    expect(after).toBeLessThanOrEqual(200 + 350);
    expect(table.snapshot()[0]?.replicas[0]?.reason).toMatch(
      /^health failed: tcp 127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
  });

  it("stops checking a replica that is not ready or removed", async () => {
    const a = await upstream((req, res) => res.writeHead(200).end());
    const { table } = await startEdge(undefined, [component("web", health("http"))]);
    table.setReplica("web", 0, { port: a.port, ready: true });
    await until(() => a.seen.length >= 2, 2_000, "checks");
    table.setReplica("web", 0, { port: a.port, ready: false });
    await new Promise((r) => setTimeout(r, 50));
    const n = a.seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(a.seen.length).toBe(n);
    table.removeReplica("web", 0);
    expect(table.snapshot()[0]?.replicas).toEqual([]);
  });
});

describe("probe factories", () => {
  const exec: HealthSpec = {
    kind: "exec",
    command: "true",
    intervalMs: 50,
    timeoutMs: 100,
    fall: 1,
    rise: 1,
  };

  it("refuses exec health checks without the daemon's probe factory, at construction", () => {
    expect(() => new RoutingTable([component("jobs", exec)])).toThrow(
      "jobs: `exec` health checks need a probe factory (RoutingTable option `probe`)",
    );
  });

  it("runs a given probe factory with the replica's endpoint", async () => {
    const targets: string[] = [];
    let ok = true;
    const table = new RoutingTable([component("jobs", exec)], {
      probe: (spec, target) => {
        targets.push(`${spec.kind} ${target.component}[${target.index}] ${target.host}:${target.port}`);
        return async () => ({ ok, detail: ok ? "passed" : "exit 1" });
      },
    });
    onCleanup(() => table.close());
    table.setReplica("jobs", 2, { port: 4100, ready: true });
    expect(targets).toEqual(["exec jobs[2] 127.0.0.1:4100"]);
    ok = false;
    await until(() => table.snapshot()[0]?.replicas[0]?.state === "out", 2_000, "out");
    expect(table.snapshot()[0]?.replicas[0]?.reason).toBe("health failed: exit 1");
  });
});
