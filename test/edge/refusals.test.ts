/**
 * Every refusal of a bad request is the edge's JSON answer with a code, on both client sides: the
 * fast path (the bad request is the connection's first) and node's HTTP server (the connection was
 * handed over by an absolute-form request before it, answered first — also when the bad request is
 * pipelined behind it). Nothing of node's own empty or plain-text answers (its Host check, its 417,
 * its clientError defaults) reaches a client.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, route, startEdge, upstream } from "./helpers.js";

let port = 0;
let seen: () => number;

beforeAll(async () => {
  const u = await upstream();
  const edge = await startEdge([route({ maxBodyBytes: 1_000 })]);
  edge.table.setReplica("web", 0, { port: u.port, ready: true });
  port = edge.port;
  seen = () => u.seen.length;
});
afterAll(cleanup);

/**
 * Sends `first` (if any) on a new connection, then — once its answer arrived, or at once when
 * `pipelined` — `text`; resolves with all it got once the edge closed it.
 */
function exchange(text: string, first = "", pipelined = false): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      if (first === "" || pipelined) s.write(first + text, "latin1");
      else s.write(first, "latin1");
    });
    let out = "";
    let sent = first === "" || pipelined;
    s.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      if (!sent && /hello(\r\n0\r\n\r\n)?$/.test(out)) {
        sent = true;
        s.write(text, "latin1");
      }
    });
    s.on("close", () => resolve(out));
    s.on("error", () => {});
    s.setTimeout(5_000, () => s.destroy());
  });
}

/** Handed to node's server at its first request (absolute-form), answered 200, kept alive. */
const HANDOVER = "GET http://a/first HTTP/1.1\r\nHost: a\r\n\r\n";

const CASES: [name: string, request: string, status: number, code: string][] = [
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, "BAD_REQUEST"],
  [
    "an upgrade without Host",
    "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    400,
    "BAD_REQUEST",
  ],
  [
    "Expect other than 100-continue",
    "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\nhi",
    417,
    "EXPECTATION_FAILED",
  ],
  ["bare LF line endings", "GET / HTTP/1.1\nHost: a\n\n", 400, "BAD_REQUEST"],
  ["an unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "BAD_REQUEST"],
  ["a second Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "BAD_REQUEST"],
  [
    "Connection naming Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: Content-Length\r\n\r\nhi",
    400,
    "BAD_REQUEST",
  ],
  ["CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
  [
    "a body over max_body",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n",
    413,
    "BODY_TOO_LARGE",
  ],
  [
    "chunk extensions too large",
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;${"e".repeat(20_000)}\r\nx\r\n0\r\n\r\n`,
    413,
    "BODY_TOO_LARGE",
  ],
  [
    "a head over 16 KiB",
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(17_000)}\r\n\r\n`,
    431,
    "HEAD_TOO_LARGE",
  ],
];

describe.each(["fast path", "node path", "node path, pipelined"])("refusals on the %s", (path) => {
  it.each(CASES)("%s: %i %s as JSON", async (name, request, status, code) => {
    // A pipelined upgrade or CONNECT is not a parse error: node hands the socket over at once.
    if (path.endsWith("pipelined") && /upgrade|CONNECT/.test(name)) return;
    const before = seen();
    const text = await exchange(request, path === "fast path" ? "" : HANDOVER, path.endsWith("pipelined"));
    // On the node path the handover request's answer comes first.
    const answers = text.split(/(?=HTTP\/1\.1 \d{3} )/);
    const last = answers[answers.length - 1] as string;
    if (path !== "fast path") {
      expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
      expect(answers).toHaveLength(2);
    } else {
      expect(answers).toHaveLength(1);
    }
    expect(last.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
    expect(last).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/i);
    const body = JSON.parse(last.slice(last.indexOf("\r\n\r\n") + 4)) as { error: { code: string } };
    expect(body.error.code).toBe(code);
    // Nothing of a refused request reached the replica.
    expect(seen() - before).toBe(path === "fast path" ? 0 : 1);
  });
});

describe("requests pipelined behind a refusal", () => {
  it.each([
    [
      "HTTP/1.0 with Connection naming Host",
      "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, Host\r\n\r\n",
      400,
    ],
    ["no Host", "GET http://a/ HTTP/1.1\r\n\r\n", 400],
    ["413 by Content-Length", "POST http://a/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", 413],
  ])(
    "%s: the refusal closes the connection, nothing behind it reaches the replica",
    async (_, first, status) => {
      const before = seen();
      const behind =
        "GET /behind HTTP/1.1\r\nHost: a\r\n\r\nPOST /behind HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz";
      const text = await exchange(behind, first, true);
      expect(text.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
      expect(text.split(/(?=HTTP\/1\.1 \d{3} )/)).toHaveLength(1);
      // Let anything the edge might have forwarded arrive.
      await new Promise((r) => setTimeout(r, 200));
      expect(seen() - before).toBe(0);
    },
  );
});
