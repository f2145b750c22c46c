import { describe, expect, it } from "vitest";
import { ResponseParser, type ResponseSink } from "../../src/edge/upstream/response-parser.js";

interface Parsed {
  status?: number;
  reason?: string;
  headers?: string[];
  body: string;
  done: boolean;
}

function parser(headRequest = false): { p: ResponseParser; out: Parsed } {
  const out: Parsed = { body: "", done: false };
  const sink: ResponseSink = {
    onHead(status, reason, headers) {
      Object.assign(out, { status, reason, headers });
    },
    onData(chunk, done) {
      if (chunk) out.body += chunk.toString("latin1");
      if (done) out.done = true;
    },
  };
  const p = new ResponseParser(sink);
  p.reset(headRequest);
  return { p, out };
}

/** Feeds `text` in pieces of `step` bytes; returns the extra byte count of the last call. */
function feed(p: ResponseParser, text: string, step = text.length): number {
  const buf = Buffer.from(text, "latin1");
  let extra = 0;
  for (let i = 0; i < buf.length; i += step) extra = p.execute(buf.subarray(i, i + step));
  return extra;
}

const chunked =
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 2\r\n\r\n";

describe("ResponseParser", () => {
  it("parses a Content-Length response, whole or split at every byte", () => {
    const text =
      "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-B:  v \r\n\r\nhello";
    for (const step of [text.length, 1, 2, 7]) {
      const { p, out } = parser();
      expect(feed(p, text, step)).toBe(0);
      expect(out).toEqual({
        status: 201,
        reason: "Created",
        headers: ["Content-Length", "5", "X-B", "v"],
        body: "hello",
        done: true,
      });
      expect(p.keepAlive).toBe(true);
    }
  });

  it("decodes a chunked body, split at every byte, and drops trailers and hop-by-hop fields", () => {
    for (const step of [chunked.length, 1, 3]) {
      const { p, out } = parser();
      feed(p, chunked, step);
      expect(out).toEqual({
        status: 200,
        reason: "OK",
        headers: ["X-A", "1"],
        body: "hello world",
        done: true,
      });
    }
  });

  it("reads a body without length until the connection closes, and does not reuse the connection", () => {
    const { p, out } = parser();
    feed(p, "HTTP/1.1 200 OK\r\n\r\nsome");
    feed(p, " more");
    expect(out.done).toBe(false);
    p.eof();
    expect([out.body, out.done, p.keepAlive]).toEqual(["some more", true, false]);
  });

  it("knows bodyless answers: HEAD, 204, 304, and skips 1xx", () => {
    const head = parser(true);
    feed(head.p, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
    expect([head.out.done, head.out.body]).toEqual([true, ""]);
    const noContent = parser();
    feed(noContent.p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    expect([noContent.out.status, noContent.out.done]).toEqual([204, true]);
  });

  it("honours Connection: close, HTTP/1.0 and Keep-Alive hints", () => {
    const close = parser();
    feed(close.p, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    expect(close.p.keepAlive).toBe(false);
    const old = parser();
    feed(old.p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(old.p.keepAlive).toBe(false);
    const hint = parser();
    feed(hint.p, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n");
    expect([hint.p.keepAlive, hint.p.keepAliveHintMs]).toEqual([true, 5000]);
  });

  it("refuses Transfer-Encoding with Content-Length (which one the replica meant is a guess) and reports extra bytes", () => {
    const both = parser();
    expect(() =>
      feed(
        both.p,
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      ),
    ).toThrow("both Transfer-Encoding and Content-Length");
    const extra = parser();
    expect(feed(extra.p, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")).toBe(5);
  });

  it.each([
    ["a bad status line", "HTTP/2 200 OK\r\n\r\n", "bad status line"],
    [
      "differing lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "more than one Content-Length field",
    ],
    [
      "a repeated length",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
      "more than one Content-Length field",
    ],
    ["a length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", "bad Content-Length"],
    [
      "a repeated length in a 304",
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
      "more than one Content-Length field",
    ],
    [
      "Content-Length, Transfer-Encoding, Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
      "more than one Content-Length field",
    ],
    [
      "two Transfer-Encoding fields and a Content-Length",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
      "both Transfer-Encoding and Content-Length",
    ],
    [
      "chunked twice in two fields",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "chunked not last",
    ],
    [
      "an empty Transfer-Encoding",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\nok",
      "bad Transfer-Encoding",
    ],
    [
      "an empty coding",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n",
      "bad Transfer-Encoding",
    ],
    [
      "a coding with parameters",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
      "bad Transfer-Encoding",
    ],
    ["a bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"],
    ["obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "bad header"],
    ["a bare LF", "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n", "control character in header `X-A`"],
    ["a NUL in a value", "HTTP/1.1 200 OK\r\nX-A: 1\u00002\r\n\r\n", "control character in header `X-A`"],
    ["a space in a name", "HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n", "bad header name `X A`"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"],
    ["a status in exponent form", "HTTP/1.1 2e2 OK\r\nContent-Length: 0\r\n\r\n", "bad status line"],
    ["an unknown version", "HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n", "bad status line"],
    [
      "a bare LF in the reason",
      "HTTP/1.1 200 OK\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n",
      "bad status line",
    ],
    ["a bare CR in the reason", "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n", "bad status line"],
    ["a NUL in the reason", "HTTP/1.1 200 O\u0000K\r\nContent-Length: 0\r\n\r\n", "bad status line"],
    ["a short status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", "bad status line"],
    ["chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "chunked not last"],
    [
      "a bare CR in a chunk extension",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a\rb\r\nok\r\n",
      "bad chunk size",
    ],
    [
      "a space inside a chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n",
      "bad chunk size",
    ],
    ["an unexpected 101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 Switching Protocols"],
  ])("refuses %s", (_, text, message) => {
    const { p } = parser();
    expect(() => feed(p, text)).toThrow(message);
  });

  it("keeps codings besides chunked, drops a 204's Content-Length and keeps a 304's", () => {
    const gz = parser();
    feed(gz.p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nGZ\r\n0\r\n\r\n");
    expect([gz.out.headers, gz.out.body, gz.out.done]).toEqual([
      ["Transfer-Encoding", "gzip, chunked"],
      "GZ",
      true,
    ]);
    const closeDelimited = parser();
    feed(closeDelimited.p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nGZ");
    closeDelimited.p.eof();
    expect([closeDelimited.out.headers, closeDelimited.out.body]).toEqual([
      ["Transfer-Encoding", "gzip, chunked"],
      "GZ",
    ]);
    const noContent = parser();
    expect(feed(noContent.p, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello")).toBe(5);
    expect([noContent.out.headers, noContent.out.body, noContent.out.done]).toEqual([[], "", true]);
    const notModified = parser();
    feed(notModified.p, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n");
    expect([notModified.out.headers, notModified.out.body, notModified.out.done]).toEqual([
      ["Content-Length", "5"],
      "",
      true,
    ]);
  });

  it("accepts a 101 only for an upgrade request and only to a protocol the client offered", () => {
    const switched: string[] = [];
    const sink: ResponseSink = {
      onHead: () => switched.push("head"),
      onData: () => switched.push("data"),
      onSwitch: (reason, headers, upgrade) => switched.push(`${reason}|${headers.join(",")}|${upgrade}`),
    };
    const p = new ResponseParser(sink);
    p.reset(false, "websocket, foo");
    const extra = feed(
      p,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nX-A: 1\r\n\r\nFRAME",
    );
    expect([switched, p.switched, extra]).toEqual([["Switching Protocols|X-A,1|WebSocket"], true, 5]);
    p.reset(false, "websocket");
    expect(() => feed(p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")).toThrow(
      "did not offer",
    );
    p.reset(false, "websocket");
    expect(() => feed(p, "HTTP/1.1 101 Switching Protocols\r\n\r\n")).toThrow("did not offer");
  });

  it("refuses a head larger than 64 KiB and a close in the middle of a body", () => {
    const big = parser();
    expect(() => feed(big.p, `HTTP/1.1 200 OK\r\nX-A: ${"a".repeat(70_000)}`)).toThrow("head larger than");
    const cut = parser();
    feed(cut.p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    expect(() => cut.p.eof()).toThrow("connection closed mid-body");
  });
});
