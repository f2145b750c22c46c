import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ok, request, route, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

describe("edge shutdown", () => {
  it("lets in-flight responses finish with Connection: close and closes idle client connections", async () => {
    const u = await upstream((req, res) => {
      if (req.url === "/slow") setTimeout(() => res.end("slow done"), 300);
      else ok("quick")(req, res, "");
    });
    const { edge, table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });

    // An idle keep-alive client connection.
    const idle = net.connect(port, "127.0.0.1");
    let idleText = "";
    idle.on("data", (d) => (idleText += d.toString()));
    const idleClosed = new Promise<void>((r) => idle.on("close", () => r()));
    idle.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => idleText.includes("quick"), 2_000, "first answer");

    const slow = request(port, { path: "/slow" });
    await until(() => edge.active === 1, 2_000, "slow in flight");
    const started = Date.now();
    const closing = edge.close(2_000);
    await idleClosed;
    expect(Date.now() - started).toBeLessThan(200);

    const reply = await slow;
    expect([reply.status, reply.body, reply.headers.connection]).toEqual([200, "slow done", "close"]);
    expect(await closing).toBe(0);
    await expect(request(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("answers held requests 503 EDGE_CLOSING and cuts requests that outlive the close timeout", async () => {
    const u = await upstream(() => {}); // never answers
    const held = await startEdge([route({ hold: { timeoutMs: 5_000, maxQueued: 10 } })]);
    const waiting = request(held.port);
    await until(() => held.edge.routes[0]?.hold?.size === 1, 2_000, "held");
    await held.edge.close(100);
    const reply = await waiting;
    expect([reply.status, reply.json?.error?.code, reply.headers.connection]).toEqual([
      503,
      "EDGE_CLOSING",
      "close",
    ]);

    const stuck = await startEdge();
    stuck.table.setReplica("web", 0, { port: u.port, ready: true });
    const never = request(stuck.port).catch((e: Error) => e.message);
    await until(() => stuck.edge.active === 1, 2_000, "in flight");
    expect(await stuck.edge.close(100)).toBe(1);
    expect(await never).toMatch(/socket hang up|ECONNRESET/);
  });
});
