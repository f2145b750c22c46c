/**
 * The access log: one JSON line per request (replica answers, the edge's own answers, timeouts),
 * batched writes, rotation like replica logs, lines dropped rather than memory grown when the disk
 * does not keep up.
 */
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AccessLog } from "../../src/edge/access-log.js";
import { cleanup, ok, onCleanup, request, route, startEdge, upstream } from "./helpers.js";

afterEach(cleanup);

async function openLog(rotate = { maxBytes: 10 * 1024 * 1024, keep: 5 }, extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), "steward-access-"));
  const file = join(dir, "edge", "access.log");
  const log = await AccessLog.open(file, { rotate, ...extra });
  onCleanup(() => log.close());
  return { dir, file, log };
}

const lines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("access log", () => {
  it("writes one line per request: replica, status, bytes, duration, client; and the edge's own answers", async () => {
    const { file, log } = await openLog();
    const up = await upstream(ok("hello world"));
    const { port, table } = await startEdge(
      [route({ path: "/api", maxBodyBytes: 10 }), route({ path: "/down", component: "api" })],
      [
        { name: "web", offlineCode: "WEB_OFFLINE" },
        { name: "api", offlineCode: "API_OFFLINE" },
      ],
      undefined,
      { accessLog: log },
    );
    table.setReplica("web", 0, { port: up.port, ready: true });
    expect((await request(port, { path: '/api/x?y="1"' })).status).toBe(200);
    expect((await request(port, { method: "POST", path: "/api/p", body: "12345" })).status).toBe(200);
    expect((await request(port, { method: "POST", path: "/api/p", body: "x".repeat(20) })).status).toBe(413);
    expect((await request(port, { path: "/down" })).status).toBe(503);
    expect((await request(port, { path: "/nowhere" })).status).toBe(404);
    // HTTP/1.0 goes through node's server (the node path): logged the same way.
    const raw = net.connect(port, "127.0.0.1");
    raw.write("GET /api/old HTTP/1.0\r\n\r\n");
    await new Promise((r) => raw.on("close", r).resume());
    await log.flush();
    const got = lines(file);
    expect(got).toHaveLength(6);
    const listen = `127.0.0.1:${port}`;
    expect(got[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      listen,
      route: "/api",
      method: "GET",
      path: '/api/x?y="1"',
      status: 200,
      replica: "web/0",
      code: null,
      in: 0,
      out: 11,
      ms: expect.any(Number),
      client: "127.0.0.1",
    });
    expect(got[1]).toMatchObject({ method: "POST", status: 200, replica: "web/0", in: 5, out: 11 });
    expect(got[2]).toMatchObject({ status: 413, code: "BODY_TOO_LARGE", replica: null, out: 0 });
    expect(got[3]).toMatchObject({ route: "/down", status: 503, code: "NO_HEALTHY_REPLICA" });
    expect(got[4]).toMatchObject({ route: null, path: "/nowhere", status: 404, code: "NO_ROUTE" });
    expect(got[5]).toMatchObject({ path: "/api/old", status: 200, replica: "web/0", out: 11 });
  });

  it("logs the refusals node's server answers: malformed heads, no Host, CONNECT, Expect", async () => {
    const { file, log } = await openLog();
    const { port } = await startEdge([route()], undefined, undefined, { accessLog: log });
    for (const text of [
      "GET / HTTP/1.1\nHost: a\n\n",
      "GET /nohost HTTP/1.1\r\n\r\n",
      "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n",
    ]) {
      const raw = net.connect(port, "127.0.0.1", () => raw.write(text));
      await new Promise((r) => raw.on("close", r).resume());
    }
    await log.flush();
    expect(lines(file)).toEqual([
      expect.objectContaining({
        method: null,
        path: null,
        status: 400,
        code: "BAD_REQUEST",
        client: "127.0.0.1",
      }),
      expect.objectContaining({ method: "GET", path: "/nohost", status: 400, code: "BAD_REQUEST" }),
      expect.objectContaining({ method: "CONNECT", path: "a:443", status: 405, code: "METHOD_NOT_ALLOWED" }),
      expect.objectContaining({ method: "POST", path: "/e", status: 417, code: "EXPECTATION_FAILED" }),
    ]);
  });

  it("logs a head that timed out (408) and a client that left before its answer", async () => {
    const { file, log } = await openLog();
    const up = await upstream((_req, res) => setTimeout(() => res.end("late"), 300));
    const { port, table } = await startEdge([route()], undefined, undefined, {
      accessLog: log,
      listeners: [
        {
          address: "127.0.0.1",
          port: 0,
          maxConnections: 100,
          maxConnectionsPerClient: 100,
          headTimeoutMs: 200,
        },
      ],
    });
    table.setReplica("web", 0, { port: up.port, ready: true });
    const slow = net.connect(port, "127.0.0.1");
    slow.write("GET / HTT");
    await new Promise((r) => slow.on("close", r).resume());
    const gone = net.connect(port, "127.0.0.1");
    gone.write("GET /gone HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 50));
    gone.destroy();
    await new Promise((r) => setTimeout(r, 100));
    await log.flush();
    const got = lines(file);
    expect(got).toContainEqual(
      expect.objectContaining({ method: null, path: null, status: 408, code: "REQUEST_TIMEOUT" }),
    );
    expect(got).toContainEqual(
      expect.objectContaining({ path: "/gone", status: null, code: "CLIENT_CLOSED", replica: null }),
    );
  });

  it("rotates like replica logs and loses no line", async () => {
    const { dir, file, log } = await openLog({ maxBytes: 4_000, keep: 20 }, { batchBytes: 1_000 });
    for (let i = 0; i < 500; i++) {
      log.write(JSON.stringify({ i, pad: "x".repeat(40) }));
      if (i % 20 === 19) await log.flush();
    }
    await log.flush();
    const files = readdirSync(join(dir, "edge")).sort();
    expect(files.length).toBeGreaterThan(3);
    const all = files.flatMap((f) => lines(join(dir, "edge", f)).map((l) => l.i as number));
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(log.counts).toEqual({ written: 500, dropped: 0 });
    expect(readFileSync(file).length).toBeLessThan(4_000 + 1_200);
  });

  it("drops lines (and says so) instead of growing when the disk is behind", async () => {
    const warnings: string[] = [];
    const { file, log } = await openLog(undefined, {
      maxBufferedBytes: 1_000,
      warn: (m: string) => warnings.push(m),
    });
    for (let i = 0; i < 200; i++) log.write(JSON.stringify({ i, pad: "y".repeat(20) }));
    await log.flush();
    log.write("{}"); // the next batch reports what was dropped
    await log.flush();
    expect(log.counts.dropped).toBeGreaterThan(0);
    expect(log.counts.written + log.counts.dropped).toBe(201);
    expect(lines(file)).toHaveLength(log.counts.written);
    expect(warnings[0]).toMatch(/access log: \d+ line\(s\) dropped, the disk did not keep up/);
  });
});
