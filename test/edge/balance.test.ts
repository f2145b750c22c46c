import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ok, request, route, startEdge, upstream, type Upstream } from "./helpers.js";

afterEach(cleanup);

/** The upstream port that answered each reply. */
const by = (replies: { headers: http.IncomingHttpHeaders }[]): string[] =>
  replies.map((r) => String(r.headers["x-upstream"]));

describe("balancing", () => {
  it("round-robin sends requests to each routable replica in turn", async () => {
    const ups: Upstream[] = [await upstream(ok("a")), await upstream(ok("b")), await upstream(ok("c"))];
    const { table, port } = await startEdge();
    ups.forEach((u, i) => table.setReplica("web", i, { port: u.port, ready: true }));
    const agent = new http.Agent({ keepAlive: true });
    const replies = [];
    for (let i = 0; i < 9; i++) replies.push(await request(port, { agent }));
    agent.destroy();
    const p = ups.map((u) => String(u.port));
    expect(by(replies)).toEqual([...p, ...p, ...p]);
    expect(ups.map((u) => u.seen.length)).toEqual([3, 3, 3]);
  });

  it("round-robin skips a replica that is not ready", async () => {
    const a = await upstream(ok("a"));
    const b = await upstream(ok("b"));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setReplica("web", 1, { port: b.port, ready: false });
    const replies = [await request(port), await request(port), await request(port)];
    expect(by(replies)).toEqual([String(a.port), String(a.port), String(a.port)]);
    expect(table.snapshot()[0]?.replicas.map((r) => r.state)).toEqual(["in", "not-ready"]);
  });

  it("least-conn sends new requests to the replica with the fewest in flight", async () => {
    // Replica 0 holds /slow requests until released; replica 1 answers at once.
    const pending: http.ServerResponse[] = [];
    const slow = await upstream((req, res) => {
      if (req.url === "/slow") pending.push(res);
      else ok("slow")(req, res, "");
    });
    const fast = await upstream(ok("fast"));
    const { table, port } = await startEdge([route({ balance: "least-conn" })]);
    table.setReplica("web", 0, { port: slow.port, ready: true });
    table.setReplica("web", 1, { port: fast.port, ready: true });

    const first = request(port, { path: "/slow" }); // goes to replica 0 (tie → first in turn), stays in flight
    await new Promise((r) => setTimeout(r, 100));
    expect(table.snapshot()[0]?.replicas.map((r) => r.inFlight)).toEqual([1, 0]);
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await request(port, { path: "/slow" }));
    // Every one of them went to replica 1, which answers at once.
    expect(by(replies)).toEqual(Array(5).fill(String(fast.port)));
    expect([slow.seen.length, fast.seen.length]).toEqual([1, 5]);

    for (const res of pending) res.end("released");
    expect((await first).body).toBe("released");
    expect(table.snapshot()[0]?.replicas.map((r) => r.inFlight)).toEqual([0, 0]);
  });

  it("least-conn shares equal load evenly", async () => {
    const ups = [await upstream(ok("a")), await upstream(ok("b"))];
    const { table, port } = await startEdge([route({ balance: "least-conn" })]);
    ups.forEach((u, i) => table.setReplica("web", i, { port: u.port, ready: true }));
    for (let i = 0; i < 10; i++) await request(port);
    expect(ups.map((u) => u.seen.length)).toEqual([5, 5]);
  });
});
