/**
 * The edge's connection caps (per listener, per client address, edge-wide) and its head timeout,
 * with real sockets on loopback.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CompiledListener } from "../../src/topology/types.js";
import { cleanup, onCleanup, request, route, sleep, startEdge, until, upstream } from "./helpers.js";

afterEach(cleanup);

/** A connection from `from` (a loopback address), open and idle; resolves once connected. */
function connect(port: number, from = "127.0.0.1", host = "127.0.0.1"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress: from }, () => resolve(s));
    s.on("error", reject);
    onCleanup(() => void s.destroy());
  });
}

/** Everything the edge sends on `s` until it closes it. */
function readAll(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    s.setEncoding("latin1");
    s.on("data", (c: string) => (text += c));
    s.on("close", () => resolve(text));
    s.on("error", () => undefined);
  });
}

function limits(port: number, l: Partial<CompiledListener>): CompiledListener[] {
  return [
    {
      address: "127.0.0.1",
      port,
      maxConnections: 10_000,
      maxConnectionsPerClient: 256,
      headTimeoutMs: 10_000,
      ...l,
    },
  ];
}

async function edgeWith(l: Partial<CompiledListener>, maxConnections?: number) {
  const up = await upstream();
  const setup = await startEdge([route()], undefined, undefined, {
    listeners: limits(0, l),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
  });
  setup.table.setReplica("web", 0, { port: up.port, ready: true });
  return setup;
}

describe("connection caps", () => {
  it("refuses a client address over its cap with 503 TOO_MANY_CONNECTIONS; other addresses, then the listener's cap", async () => {
    const { edge, port } = await edgeWith({ maxConnectionsPerClient: 2, maxConnections: 3 });
    await connect(port, "127.0.0.1");
    await connect(port, "127.0.0.1");
    await until(() => edge.stats[0]!.connections === 2);
    const third = readAll(await connect(port, "127.0.0.1"));
    const answer = await third;
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).toMatch(/\r\nRetry-After: 1\r\nConnection: close\r\n/);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body.error).toMatchObject({ code: "TOO_MANY_CONNECTIONS", details: { limit: "client", max: 2 } });
    // Another address still gets in, up to the listener's cap.
    await connect(port, "127.0.0.2");
    await until(() => edge.stats[0]!.connections === 3);
    const over = JSON.parse((await readAll(await connect(port, "127.0.0.3"))).split("\r\n\r\n")[1]!);
    expect(over.error.details).toEqual({ limit: "listener", max: 3 });
    expect(edge.stats[0]).toMatchObject({
      connections: 3,
      refused: { client: 1, listener: 1, descriptors: 0 },
    });
  });

  it("counts a connection out when it closes: the next one is served", async () => {
    const { edge, port } = await edgeWith({ maxConnectionsPerClient: 1 });
    const held = await connect(port);
    await until(() => edge.stats[0]!.connections === 1);
    // Refused at once: the 503 is written before the request is read (a client may see a reset instead).
    const refused = await request(port).catch((err: NodeJS.ErrnoException) => err.code);
    expect(refused === "ECONNRESET" || (typeof refused === "object" && refused.status === 503)).toBe(true);
    held.destroy();
    await until(() => edge.stats[0]!.connections === 0);
    expect((await request(port)).status).toBe(200);
    expect(edge.stats[0]!.refused.client).toBe(1);
  });

  it("the edge-wide cap (descriptor budget) spans listeners", async () => {
    const up = await upstream();
    const { edge, table } = await startEdge(
      [route(), route({ address: "127.0.0.2" })],
      undefined,
      undefined,
      { maxConnections: 2 },
    );
    table.setReplica("web", 0, { port: up.port, ready: true });
    const [a, b] = edge.addresses;
    await connect(a!.port);
    await connect(b!.port, "127.0.0.1", "127.0.0.2");
    await until(() => edge.stats[0]!.connections + edge.stats[1]!.connections === 2);
    const text = await readAll(await connect(a!.port));
    expect(JSON.parse(text.split("\r\n\r\n")[1]!).error.details).toEqual({ limit: "descriptors", max: 2 });
    expect(edge.stats[0]!.refused.descriptors).toBe(1);
  });
});

describe("head timeout", () => {
  it("answers 408 to a partial head after the head timeout, apart from the idle and body timeouts", async () => {
    const { edge, port } = await edgeWith({ headTimeoutMs: 400 });
    // A partial head: 408 once the timeout (checked every second) has passed.
    const slow = await connect(port);
    const started = Date.now();
    slow.write("GET / HTTP/1.1\r\nHost: x\r\n");
    const answer = await readAll(slow);
    const took = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer).toMatch(/REQUEST_TIMEOUT/);
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3_000);
    expect(edge.stats[0]!.headTimeouts).toBe(1);

    // A complete head whose body comes after longer than the head timeout: served (the body has its own, longer limit).
    const body = await connect(port);
    const reply = readAll(body);
    body.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
    await sleep(1_600);
    body.write("hello");
    expect(await reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    // An idle connection with nothing sent yet is the keep-alive timeout's business (5 s), not the head's.
    const idle = await connect(port);
    await sleep(1_600);
    expect(idle.destroyed).toBe(false);
    const r = readAll(idle);
    idle.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(await r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it("holds for a head handed to node's parser too (an HTTP/1.0 head that never ends)", async () => {
    const { port } = await edgeWith({ headTimeoutMs: 400 });
    for (const partial of [
      "GET / HTTP/1.0\r\nHost: x\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n",
    ]) {
      const slow = await connect(port);
      const started = Date.now();
      slow.write(partial);
      const answer = await readAll(slow);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it("defaults to 10 s", async () => {
    const { EDGE_DEFAULTS } = await import("../../src/edge/index.js");
    expect(EDGE_DEFAULTS).toMatchObject({
      headersTimeoutMs: 10_000,
      maxConnections: 10_000,
      maxConnectionsPerClient: 256,
    });
  });
});
