import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { RoutingTransition } from "../../src/edge/index.js";
import {
  cleanup,
  freePort,
  ok,
  onCleanup,
  request,
  route,
  startEdge,
  until,
  upstream,
  type Upstream,
} from "./helpers.js";

afterEach(cleanup);

const recovery = { recovery: { intervalMs: 50, rise: 2, timeoutMs: 100 } };

/** An upstream that reads each request, then resets its connection without answering. */
async function resetter(): Promise<Upstream> {
  return upstream((req) => req.socket.resetAndDestroy());
}

describe("passive ejection and safe retry", () => {
  it("a refused connection takes the replica out at once; the GET is retried on another replica", async () => {
    const dead = await freePort();
    const live = await upstream(ok("live"));
    const { table, port } = await startEdge(undefined, undefined, recovery);
    const transitions: RoutingTransition[] = [];
    table.onTransition((t) => transitions.push(t));
    table.setReplica("web", 0, { port: dead, ready: true });
    table.setReplica("web", 1, { port: live.port, ready: true });

    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await request(port));
    expect(replies.map((r) => [r.status, r.body])).toEqual(Array(4).fill([200, "live"]));
    const r0 = table.snapshot()[0]?.replicas[0];
    expect([r0?.state, r0?.reason]).toEqual(["out", "connection refused"]);
    expect(transitions.filter((t) => t.index === 0 && t.to === "out")).toHaveLength(1);

    // It comes back once its port accepts connections again (`rise` connects in a row).
    await upstream(ok("back"), dead);
    await until(() => table.snapshot()[0]?.replicas[0]?.state === "in", 2_000, "replica 0 back in");
    const bodies = [(await request(port)).body, (await request(port)).body];
    expect(bodies.sort()).toEqual(["back", "live"]);
  });

  it("a POST whose connection was refused is retried: nothing had been sent", async () => {
    const dead = await freePort();
    const live = await upstream((req, res, body) => res.end(`got ${body}`));
    const { table, port } = await startEdge(undefined, undefined, recovery);
    table.setReplica("web", 0, { port: dead, ready: true });
    table.setReplica("web", 1, { port: live.port, ready: true });
    const reply = await request(port, { method: "POST", body: "x".repeat(5000) });
    expect([reply.status, reply.body]).toEqual([200, `got ${"x".repeat(5000)}`]);
  });

  it("a GET reset by the replica after it was sent is retried on another replica", async () => {
    const bad = await resetter();
    const good = await upstream(ok("good"));
    const { table, port } = await startEdge(undefined, undefined, recovery);
    table.setReplica("web", 0, { port: bad.port, ready: true });
    table.setReplica("web", 1, { port: good.port, ready: true });
    const reply = await request(port, { path: "/thing" });
    expect([reply.status, reply.body]).toEqual([200, "good"]);
    expect(bad.seen.map((s) => s.url)).toEqual(["/thing"]);
    expect(table.snapshot()[0]?.replicas[0]?.state).toBe("out");
  });

  it("a POST reset after its body was sent is not retried and gets 502", async () => {
    const bad = await resetter();
    const good = await upstream(ok("good"));
    const { table, port } = await startEdge(undefined, undefined, recovery);
    table.setReplica("web", 0, { port: bad.port, ready: true });
    table.setReplica("web", 1, { port: good.port, ready: true });
    const reply = await request(port, { method: "POST", path: "/order", body: "pay 10" });
    expect(reply.status).toBe(502);
    expect(reply.json?.error?.code).toBe("UPSTREAM_FAILED");
    expect(reply.json?.error?.details).toMatchObject({ component: "web", replica: 0, attempts: 1 });
    expect(bad.seen.map((s) => [s.method, s.body])).toEqual([["POST", "pay 10"]]);
    expect(good.seen).toEqual([]);
  });

  it("a replica silent past the route's timeout gets 504, not a retry", async () => {
    const silent = await upstream(() => {});
    const other = await upstream(ok("other"));
    const { table, port } = await startEdge([route({ timeoutMs: 200 })]);
    table.setReplica("web", 0, { port: silent.port, ready: true });
    table.setReplica("web", 1, { port: other.port, ready: true });
    const started = Date.now();
    const reply = await request(port);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(reply.status).toBe(504);
    expect(reply.json?.error?.code).toBe("UPSTREAM_TIMEOUT");
    expect(other.seen).toEqual([]);
    expect(table.snapshot()[0]?.replicas[0]?.state).toBe("in"); // slow is not dead
  });

  it("an invalid response gets 502", async () => {
    const server = net.createServer((s) => s.once("data", () => s.end("HELLO THERE\r\n\r\n")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: (server.address() as net.AddressInfo).port, ready: true });
    const reply = await request(port);
    expect(reply.status).toBe(502);
    expect(reply.json?.error?.message).toMatch(
      /invalid response from the replica: bad status line `HELLO THERE`/,
    );
  });

  it("a replica failing mid-response closes the client connection instead of hanging", async () => {
    const half = await upstream((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("only part");
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: half.port, ready: true });
    await expect(request(port)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });
});
