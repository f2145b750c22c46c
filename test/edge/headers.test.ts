import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, request, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

/** Sends raw bytes to the edge; resolves with the whole answer once the edge closes (Connection: close). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(text));
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
}

describe("headers", () => {
  it("removes hop-by-hop fields from the request (RFC 9110 §7.6.1) and sets X-Forwarded-*", async () => {
    const u = await upstream((req, res) => res.end("ok"));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const answer = await raw(
      port,
      [
        "GET /a?b=1 HTTP/1.1",
        "Host: Shop.Example:8080",
        "Connection: close, X-Secret-Hop",
        "Keep-Alive: timeout=5",
        "Proxy-Connection: keep-alive",
        "TE: trailers",
        "X-Secret-Hop: 1",
        "X-Forwarded-For: 10.0.0.1",
        "X-Forwarded-Proto: https",
        "X-Forwarded-Host: evil.example",
        "X-Custom: kept",
        "",
        "",
      ].join("\r\n"),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const seen = u.seen[0];
    expect(seen?.url).toBe("/a?b=1");
    expect(seen?.rawHeaders).toEqual([
      "Host",
      "Shop.Example:8080",
      "X-Custom",
      "kept",
      "X-Forwarded-For",
      "10.0.0.1, 127.0.0.1",
      "X-Forwarded-Proto",
      "http",
      "X-Forwarded-Host",
      "Shop.Example:8080",
    ]);
  });

  it("removes hop-by-hop fields from the response and frames it for the client", async () => {
    const u = await upstream((req, res) => {
      const socket = res.socket;
      // Written raw, so the replica's own hop-by-hop fields reach the edge as they are.
      socket?.write(
        [
          "HTTP/1.1 200 OK",
          "Content-Type: text/plain",
          "Connection: keep-alive, X-Internal",
          "Keep-Alive: timeout=30",
          "X-Internal: secret",
          "Transfer-Encoding: chunked",
          "Trailer: X-Checksum",
          "Set-Cookie: a=1",
          "Set-Cookie: b=2",
          "",
          "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n",
        ].join("\r\n"),
      );
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const reply = await request(port);
    expect(reply.body).toBe("hello world");
    const names = reply.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names).not.toContain("x-internal");
    expect(names).not.toContain("trailer");
    expect(reply.headers["keep-alive"]).not.toBe("timeout=30");
    expect(reply.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(reply.headers["transfer-encoding"]).toBe("chunked"); // re-framed by the edge
  });

  it("keeps client connections alive across requests and reuses upstream connections", async () => {
    const u = await upstream((req, res) => res.end("ok"));
    const conns = new Set<string>();
    u.server.on("connection", (s: net.Socket) => conns.add(`${s.remotePort}`));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    s.on("data", (d) => (out += d.toString()));
    for (let i = 1; i <= 3; i++) {
      s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => out.split("HTTP/1.1 200").length - 1 === i, 2_000, `answer ${i}`);
    }
    s.destroy();
    expect(out).toContain("Connection: keep-alive");
    expect(conns.size).toBe(1);
  });

  it("answers an HTTP/1.0 request without Host, sending the replica's address as Host", async () => {
    const u = await upstream((req, res) => res.end(`host ${req.headers.host}`));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const answer = await raw(port, "GET / HTTP/1.0\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.endsWith(`host 127.0.0.1:${u.port}`)).toBe(true);
  });
});

describe("response framing", () => {
  it("forwards a body delimited by the replica closing its connection", async () => {
    const u = await upstream((req, res) => {
      res.socket?.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const reply = await request(port);
    expect([reply.status, reply.body]).toEqual([200, "until the end"]);
    expect((await request(port)).body).toBe("until the end"); // the closed connection was not reused
  });

  it("streams a large body with backpressure, byte for byte", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
    const u = await upstream((req, res) => {
      res.writeHead(200, { "content-length": String(big.length) });
      res.end(big);
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(big.length);
    expect(body.equals(big)).toBe(true);
  });
});
