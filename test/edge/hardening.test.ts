/**
 * Issue 10's edge holes, one by one, on the real edge (the corpus and the fuzzer cover the families):
 * 413 before any 100 Continue, a 101 only for the protocol the client offered.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, onCleanup, route, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

function raw(port: number, text: string): { text: () => string; closed: () => boolean } {
  const s = net.connect(port, "127.0.0.1", () => s.write(text));
  let out = "";
  let closed = false;
  s.on("data", (d: Buffer) => (out += d.toString("latin1")));
  s.on("close", () => (closed = true));
  s.on("error", () => {});
  onCleanup(() => {
    s.destroy();
  });
  return { text: () => out, closed: () => closed };
}

describe("edge hardening", () => {
  it("answers 413 without 100 Continue when Content-Length is over max_body, and 100 once accepted", async () => {
    const u = await upstream();
    const { table, port } = await startEdge([route({ maxBodyBytes: 10 })]);
    table.setReplica("web", 0, { port: u.port, ready: true });
    const big = raw(port, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n");
    await until(big.closed, 2_000, "413 and close");
    expect(big.text()).toMatch(/^HTTP\/1\.1 413 /);
    expect(big.text()).not.toContain("100 Continue");
    expect(big.text()).toContain('"code":"BODY_TOO_LARGE"');
    const small = raw(
      port,
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
    );
    await until(() => small.text().includes("100 Continue"), 2_000, "100 Continue");
    expect(u.seen).toEqual([]);
  });

  it("tunnels only after a 101 naming an offered protocol: another one is a 502, and nothing is piped", async () => {
    const u = await upstream();
    const after: string[] = [];
    u.server.on("upgrade", (_req, socket: net.Socket) => {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n");
      socket.on("data", (d: Buffer) => after.push(d.toString()));
    });
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: u.port, ready: true });
    const c = raw(
      port,
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nRAW BYTES",
    );
    await until(c.closed, 2_000, "502 and close");
    expect(c.text()).toMatch(/^HTTP\/1\.1 502 /);
    expect(c.text()).toContain("which the client did not offer");
    expect(after).toEqual([]);
  });
});
