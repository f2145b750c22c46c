import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, request, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

/** A raw client connection that records everything it reads. */
function client(port: number): { socket: net.Socket; text: () => string; closed: Promise<void> } {
  const socket = net.connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (d) => (text += d.toString("latin1")));
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  return { socket, text: () => text, closed };
}

const count = (text: string, what: string): number => text.split(what).length - 1;

describe("the fast path", () => {
  it("answers pipelined requests in order, one at a time", async () => {
    const u = await upstream((req, res) =>
      setTimeout(() => res.end(`answer ${req.url}`), req.url === "/1" ? 80 : 0),
    );
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const c = client(port);
    c.socket.write(
      ["/1", "/2", "/3"].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join("") +
        "POST /4 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",
    );
    await until(() => count(c.text(), "HTTP/1.1 200 OK") === 4, 3_000, "4 answers");
    const bodies = [...c.text().matchAll(/answer \/(\d)/g)].map((m) => m[1]);
    expect(bodies).toEqual(["1", "2", "3", "4"]);
    expect(u.seen.map((s) => [s.url, s.body])).toEqual([
      ["/1", ""],
      ["/2", ""],
      ["/3", ""],
      ["/4", "body"],
    ]);
    c.socket.destroy();
  });

  it("hands a connection to node's HTTP server at a request it does not take, which then serves it", async () => {
    const u = await upstream((req, res, body) => res.end(`${req.method} ${req.url} ${body}`));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const c = client(port);
    c.socket.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => c.text().includes("GET /fast "), 2_000, "first answer");
    // A chunked body is not for the fast path: node takes the connection from here on.
    c.socket.write(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    await until(() => c.text().includes("POST /chunked abc"), 2_000, "second answer");
    c.socket.write("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => c.text().includes("GET /after "), 2_000, "third answer");
    expect(count(c.text(), "HTTP/1.1 200 OK")).toBe(3);
    c.socket.destroy();
  });

  it("answers HEAD without a body and keeps the connection", async () => {
    const u = await upstream((req, res) => {
      res.writeHead(200, { "content-length": "5" });
      res.end(req.method === "HEAD" ? undefined : "hello");
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const c = client(port);
    c.socket.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => c.text().endsWith("hello"), 2_000, "both answers");
    expect(count(c.text().toLowerCase(), "content-length: 5")).toBe(2);
    expect(count(c.text(), "hello")).toBe(1);
    c.socket.destroy();
  });

  it("streams a large request body to the replica, byte for byte", async () => {
    const u = await upstream((req, res, body) => res.end(String(body.length)));
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const body = "z".repeat(3 * 1024 * 1024);
    const reply = await request(port, { method: "PUT", body });
    expect(reply.body).toBe(String(body.length));
    expect(u.seen[0]?.body).toBe(body);
  });

  it("closes an idle keep-alive connection, and answers 408 to a head that does not finish", async () => {
    const u = await upstream((req, res) => res.end("ok"));
    const { table, port } = await startEdge(
      undefined,
      undefined,
      {},
      { keepAliveTimeoutMs: 100, headersTimeoutMs: 300 },
    );
    table.setReplica("web", 0, { port: u.port, ready: true });
    const idle = client(port);
    idle.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => idle.text().endsWith("ok"), 2_000, "answer");
    expect(idle.text()).toContain("Keep-Alive: timeout=0");
    await idle.closed; // within the sweep interval (1 s) after 100 ms idle

    const slow = client(port);
    slow.socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await slow.closed;
    expect(slow.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(slow.text()).toContain('"code":"REQUEST_TIMEOUT"');
  });
});
