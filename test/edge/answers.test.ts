import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, component, ok, request, route, startEdge, upstream } from "./helpers.js";

afterEach(cleanup);

describe("the edge's own answers", () => {
  it("an offline component: 503 with its offline code and Retry-After", async () => {
    const u = await upstream(ok("x"));
    const { table, port } = await startEdge(
      [route({ path: "/api", component: "engine" })],
      [component("engine")],
    );
    table.setReplica("engine", 0, { port: u.port, ready: true });
    table.setOffline("engine", "ENGINE_OFFLINE");
    const reply = await request(port, { path: "/api/orders" });
    expect(reply.status).toBe(503);
    expect(reply.headers["retry-after"]).toBe("10");
    expect(reply.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(reply.json).toEqual({
      error: {
        code: "ENGINE_OFFLINE",
        message: "engine is offline; try again later",
        details: { component: "engine", route: ":0 /api → engine" },
      },
    });
    expect(u.seen).toEqual([]);

    table.setOffline("engine", "MAINTENANCE", { retryAfterS: 120 });
    const again = await request(port, { path: "/api" });
    expect([again.status, again.json?.error?.code, again.headers["retry-after"]]).toEqual([
      503,
      "MAINTENANCE",
      "120",
    ]);

    table.setOffline("engine", null);
    expect((await request(port, { path: "/api" })).status).toBe(200);
  });

  it("no routable replica: 503 NO_HEALTHY_REPLICA with Retry-After", async () => {
    const health = {
      kind: "tcp" as const,
      host: "127.0.0.1",
      port: "${port}",
      intervalMs: 1000,
      timeoutMs: 1000,
      fall: 2,
      rise: 3,
    };
    const { table, port } = await startEdge(undefined, [component("web", health)]);
    table.setReplica("web", 0, { port: 1, ready: false });
    const reply = await request(port);
    expect(reply.status).toBe(503);
    expect(reply.headers["retry-after"]).toBe("3"); // interval × rise: the soonest a replica can come back
    expect(reply.json?.error).toEqual({
      code: "NO_HEALTHY_REPLICA",
      message: "no healthy replica of web (1 registered, none routable)",
      details: { component: "web", route: ":0 / → web", replicas: 1 },
    });
  });

  it("no matching route: 404 NO_ROUTE", async () => {
    const u = await upstream(ok("x"));
    const { table, port } = await startEdge([
      route({ path: "/api" }),
      route({ path: "/", host: "admin.example.com" }),
    ]);
    table.setReplica("web", 0, { port: u.port, ready: true });
    const reply = await request(port, { path: "/other", headers: { host: "shop.example.com" } });
    expect(reply.status).toBe(404);
    expect(reply.json?.error?.code).toBe("NO_ROUTE");
    expect(reply.json?.error?.message).toBe("no route on port 0 for GET shop.example.com/other");
    expect(
      (await request(port, { path: "/other", headers: { host: "Admin.Example.com:8080" } })).status,
    ).toBe(200);
  });

  it("a body larger than max_body: 413 BODY_TOO_LARGE, by Content-Length, before contacting a replica", async () => {
    const u = await upstream((req, res, body) => res.end(`got ${body.length}`));
    const { table, port } = await startEdge([route({ maxBodyBytes: 1000 })]);
    table.setReplica("web", 0, { port: u.port, ready: true });
    const reply = await request(port, { method: "POST", body: "x".repeat(1001) });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe("close");
    expect(reply.json?.error).toMatchObject({ code: "BODY_TOO_LARGE", details: { maxBodyBytes: 1000 } });
    expect(u.seen).toEqual([]);
    expect((await request(port, { method: "POST", body: "x".repeat(1000) })).body).toBe("got 1000");
  });

  it("a chunked body growing past max_body: 413, and the edge keeps serving", async () => {
    const u = await upstream((req, res, body) => res.end(`got ${body.length}`));
    const { table, port } = await startEdge([route({ maxBodyBytes: 64 * 1024 })]);
    table.setReplica("web", 0, { port: u.port, ready: true });
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.write("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        const chunk = Buffer.alloc(16 * 1024, 97);
        for (let i = 0; i < 8; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
      });
      let text = "";
      s.on("data", (d) => (text += d.toString()));
      s.on("close", () => resolve(text));
      s.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413 Content Too Large\r\n/);
    expect(reply).toContain('"code":"BODY_TOO_LARGE"');
    // A chunked body under the limit goes through, re-chunked.
    const small = await request(port, {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body: "y".repeat(3000),
    });
    expect(small.body).toBe("got 3000");
    expect(u.seen.at(-1)?.headers["transfer-encoding"]).toBe("chunked");
  });
});
