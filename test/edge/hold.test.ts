import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ok, request, route, sleep, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

describe("hold", () => {
  it("queues requests while no replica is routable and releases them, in order, to the first that becomes routable", async () => {
    const u = await upstream((req, res) => res.end(`served ${req.url}`));
    const { edge, table, port } = await startEdge([route({ hold: { timeoutMs: 5_000, maxQueued: 10 } })]);
    table.setReplica("web", 0, { port: u.port, ready: false });
    const started = Date.now();
    const replies = [1, 2, 3].map((i) => request(port, { path: `/r${i}` }));
    await until(() => edge.routes[0]?.hold?.size === 3, 2_000, "3 held requests");
    await sleep(150);
    expect(u.seen).toEqual([]);

    table.setReplica("web", 0, { port: u.port, ready: true });
    const done = await Promise.all(replies);
    expect(done.map((r) => [r.status, r.body])).toEqual([
      [200, "served /r1"],
      [200, "served /r2"],
      [200, "served /r3"],
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(u.seen.map((s) => s.url)).toEqual(["/r1", "/r2", "/r3"]);
    expect(edge.routes[0]?.hold?.size).toBe(0);
  });

  it("answers 503 NO_HEALTHY_REPLICA to a request held past the hold timeout", async () => {
    const { table, port } = await startEdge([route({ hold: { timeoutMs: 200, maxQueued: 10 } })]);
    table.setReplica("web", 0, { port: 1, ready: false });
    const started = Date.now();
    const reply = await request(port);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(1_000);
    expect(reply.status).toBe(503);
    expect(reply.json?.error?.code).toBe("NO_HEALTHY_REPLICA");
    expect(reply.json?.error?.message).toBe(
      "no healthy replica of web: no replica became routable within 200 ms",
    );
    expect(reply.headers["retry-after"]).toBe("1");
  });

  it("answers 503 at once past the queue bound; the queued ones still get served", async () => {
    const u = await upstream(ok("ok"));
    const { edge, table, port } = await startEdge([route({ hold: { timeoutMs: 5_000, maxQueued: 2 } })]);
    const held = [request(port), request(port)];
    await until(() => edge.routes[0]?.hold?.size === 2, 2_000, "2 held requests");
    const started = Date.now();
    const third = await request(port);
    expect(Date.now() - started).toBeLessThan(500);
    expect(third.status).toBe(503);
    expect(third.json?.error?.message).toBe("no healthy replica of web: the hold queue is full (2)");
    table.setReplica("web", 0, { port: u.port, ready: true });
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
  });

  it("a held request whose client goes away leaves the queue", async () => {
    const { edge, port } = await startEdge([route({ hold: { timeoutMs: 5_000, maxQueued: 10 } })]);
    const controller = new AbortController();
    const gone = fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal }).catch(
      (e: Error) => e.name,
    );
    await until(() => edge.routes[0]?.hold?.size === 1, 2_000, "1 held request");
    controller.abort();
    expect(await gone).toBe("AbortError");
    await until(() => edge.routes[0]?.hold?.size === 0, 2_000, "queue empty");
    expect(edge.active).toBe(0);
  });

  it("held requests get the offline answer when their component goes offline", async () => {
    const { table, port } = await startEdge([route({ hold: { timeoutMs: 5_000, maxQueued: 10 } })]);
    const held = request(port);
    await sleep(50);
    table.setOffline("web", "WEB_OFFLINE");
    const reply = await held;
    expect([reply.status, reply.json?.error?.code]).toEqual([503, "WEB_OFFLINE"]);
  });
});
