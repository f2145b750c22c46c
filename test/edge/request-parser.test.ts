import { describe, expect, it } from "vitest";
import { FALLBACK, INCOMPLETE, parseRequestHead } from "../../src/edge/downstream/request-parser.js";

const parse = (text: string, max = 16 * 1024) => parseRequestHead(Buffer.from(text, "latin1"), max);

describe("the fast path's request parser", () => {
  it("parses a strict HTTP/1.1 head", () => {
    const text =
      "POST /api/orders?x=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nX-A:  spaced \t\r\n\r\nhello";
    expect(parse(text)).toEqual({
      method: "POST",
      url: "/api/orders?x=1",
      rawHeaders: ["Host", "shop", "Content-Length", "5", "X-A", "spaced"],
      contentLength: 5,
      keepAlive: true,
      headBytes: text.length - 5,
    });
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toMatchObject({
      keepAlive: false,
      contentLength: 0,
    });
  });

  it("waits for the rest of a head", () => {
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\n")).toBe(INCOMPLETE);
    expect(parse("GE")).toBe(INCOMPLETE);
  });

  it.each([
    ["HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n"],
    ["no Host", "GET / HTTP/1.1\r\n\r\n"],
    ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
    ["a chunked body", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ["two Content-Lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"],
    ["a bad Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"],
    ["Expect", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"],
    ["an upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"],
    ["absolute-form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"],
    ["CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"],
    ["a lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n"],
    ["a space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"],
    ["obsolete line folding", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n"],
    ["a space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"],
    ["a control character in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\u00002\r\n\r\n"],
    ["a bare LF", "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n"],
    ["a leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"],
  ])("hands %s to node", (_, text) => {
    expect(parse(text)).toBe(FALLBACK);
  });

  it("hands a head larger than the limit to node (which answers 431)", () => {
    expect(parse(`GET / HTTP/1.1\r\nHost: a\r\nX-A: ${"a".repeat(200)}\r\n\r\n`, 100)).toBe(FALLBACK);
    expect(parse(`GET / HTTP/1.1\r\nHost: a\r\nX-A: ${"a".repeat(200)}`, 100)).toBe(FALLBACK);
  });
});
