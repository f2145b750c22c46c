import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ok, request, sleep, startEdge, until, upstream, type Upstream } from "./helpers.js";

afterEach(cleanup);

/** An upstream answering `/slow` after `ms`, anything else at once. */
function slowUpstream(ms: number): Promise<Upstream> {
  return upstream((req, res) => {
    if (req.url === "/slow") setTimeout(() => res.end("slow done"), ms);
    else if (req.url === "/warm") setTimeout(() => res.end("warm"), 100);
    else ok("quick")(req, res, "");
  });
}

const connections = (s: http.Server): Promise<number> =>
  new Promise((resolve, reject) => s.getConnections((err, n) => (err ? reject(err) : resolve(n))));

describe("drain", () => {
  it("stops routing new requests, waits for the in-flight one, closes idle connections, reports", async () => {
    const a = await slowUpstream(300);
    const b = await upstream(ok("b"));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setReplica("web", 1, { port: b.port, ready: true });
    // Warm two keep-alive connections to replica 0, then put a slow request in flight on one.
    await Promise.all([1, 2, 3, 4].map(() => request(port, { path: "/warm" })));
    expect(table.snapshot()[0]?.replicas[0]?.idleConnections).toBe(2);
    const slow = request(port, { path: "/slow" });
    await until(() => table.replica("web", 0)?.inFlight === 1, 2_000, "slow request in flight on replica 0");

    const drained = table.drain("web", 0, 5_000);
    expect(table.snapshot()[0]?.replicas[0]).toMatchObject({ state: "draining", idleConnections: 0 });
    await sleep(50);
    expect(await connections(a.server)).toBe(1); // the idle one closed at once, the busy one is still open
    for (let i = 0; i < 3; i++) expect((await request(port)).body).toBe("b");

    const outcome = await drained;
    expect(outcome.stillInFlight).toBe(0);
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(200);
    expect(outcome.waitedMs).toBeLessThan(2_000);
    expect((await slow).body).toBe("slow done");
    expect(table.snapshot()[0]?.replicas[0]).toMatchObject({
      state: "draining",
      inFlight: 0,
      idleConnections: 0,
    });
    await sleep(50);
    expect(await connections(a.server)).toBe(0);
  });

  it("gives up after its timeout and reports what is still in flight; that request still completes", async () => {
    const a = await slowUpstream(800);
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    const slow = request(port, { path: "/slow" });
    await until(() => table.replica("web", 0)?.inFlight === 1, 2_000, "in flight");
    const outcome = await table.drain("web", 0, 200);
    expect(outcome.stillInFlight).toBe(1);
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(190);
    expect(outcome.waitedMs).toBeLessThan(700);
    expect((await slow).body).toBe("slow done");
  });

  it("an idle replica drains at once; it comes back after not-ready → ready", async () => {
    const a = await upstream(ok("a"));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    expect(await table.drain("web", 0, 5_000)).toEqual({ waitedMs: expect.any(Number), stillInFlight: 0 });
    expect((await request(port)).json?.error?.code).toBe("NO_HEALTHY_REPLICA");
    table.setReplica("web", 0, { port: a.port, ready: true });
    expect(table.snapshot()[0]?.replicas[0]?.state).toBe("draining"); // a drain is not undone by a repeated ready
    table.setReplica("web", 0, { port: a.port, ready: false });
    table.setReplica("web", 0, { port: a.port, ready: true });
    expect((await request(port)).body).toBe("a");
    expect(await table.drain("web", 9, 100)).toEqual({ waitedMs: 0, stillInFlight: 0 });
  });
});
