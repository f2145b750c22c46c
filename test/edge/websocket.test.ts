import { createHash } from "node:crypto";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, freePort, onCleanup, startEdge, upstream, until } from "./helpers.js";

afterEach(cleanup);

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A WebSocket echo server on a node:http upgrade (RFC 6455 handshake, unmasked text frames back). */
async function echoServer(): Promise<{
  port: number;
  handshakes: Record<string, string | string[] | undefined>[];
}> {
  const handshakes: Record<string, string | string[] | undefined>[] = [];
  const u = await upstream((req, res) => res.end("plain"));
  u.server.on("upgrade", (req, socket: net.Socket) => {
    handshakes.push(req.headers);
    const accept = createHash("sha1")
      .update(`${String(req.headers["sec-websocket-key"])}${GUID}`)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on("data", (frame: Buffer) => {
      // One small masked client frame: FIN+text, masked length < 126.
      const len = (frame[1] as number) & 0x7f;
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ (mask[i % 4] as number)));
      socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
    });
  });
  return { port: u.port, handshakes };
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number))),
  ]);
}

/** Opens a raw socket to the edge, sends an upgrade handshake; resolves with everything read after `waitFor` matched. */
function rawClient(port: number): { socket: net.Socket; text: () => string; bytes: () => Buffer } {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("error", () => {});
  onCleanup(() => {
    socket.destroy();
  });
  return { socket, text: () => Buffer.concat(chunks).toString("latin1"), bytes: () => Buffer.concat(chunks) };
}

const handshake = (path = "/ws"): string =>
  `GET ${path} HTTP/1.1\r\nHost: shop.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nKeep-Alive: 300\r\n\r\n`;

describe("WebSocket pass-through", () => {
  it("passes the upgrade handshake through and echoes frames both ways", async () => {
    const echo = await echoServer();
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: echo.port, ready: true });
    const c = rawClient(port);
    c.socket.write(handshake());
    await until(() => c.text().includes("\r\n\r\n"), 2_000, "101 answer");
    expect(c.text()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(c.text()).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
    expect(echo.handshakes[0]).toMatchObject({
      upgrade: "websocket",
      connection: "Upgrade",
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-host": "shop.test",
    });
    expect(echo.handshakes[0]?.["keep-alive"]).toBeUndefined();
    await until(() => table.snapshot()[0]?.replicas[0]?.tunnels === 1, 2_000, "tunnel counted");

    const before = c.bytes().length;
    c.socket.write(maskedText("hello"));
    await until(() => c.bytes().length > before, 2_000, "echo frame");
    const frame = c.bytes().subarray(before);
    expect(frame[0]).toBe(0x81);
    expect(frame.subarray(2, 2 + (frame[1] as number)).toString()).toBe("hello");

    c.socket.destroy();
    await until(() => table.snapshot()[0]?.replicas[0]?.tunnels === 0, 2_000, "tunnel closed");
  });

  it("answers an upgrade to a refused replica with 503 after ejecting it, never a bare reset", async () => {
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: await freePort(), ready: true });
    const c = rawClient(port);
    c.socket.write(handshake());
    await until(() => c.socket.readableEnded || c.text().includes("}"), 2_000, "answer");
    expect(c.text()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(c.text()).toContain('"code":"NO_HEALTHY_REPLICA"');
    expect(table.snapshot()[0]?.replicas[0]?.state).toBe("out");
  });
});
