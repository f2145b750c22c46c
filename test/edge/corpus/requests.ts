/**
 * Known request smuggling payloads, written for Steward from the techniques public desync research
 * describes (HTTP Desync Attacks' CL.TE / TE.CL / TE.TE obfuscations; "HTTP/1.1 must die"'s 0.CL and
 * Expect-based desyncs; chunk-extension and line-terminator tricks such as TERM.EXT; request-parser
 * probes for whitespace, obs-fold and bare CR/LF), plus the holes issue 10 reported and what the
 * differential fuzzer found. Each must be refused by the edge, or forwarded as llhttp frames it.
 *
 * `status`: what the client must get first, when the payload pins it down.
 */
const H = "Host: fuzz.test\r\n";
const NEXT = `GET /smuggled HTTP/1.1\r\n${H}X-Forwarded-For: 6.6.6.6\r\n\r\n`;

export interface CorpusEntry {
  name: string;
  bytes: string;
  status?: number;
}

export const REQUEST_CORPUS: CorpusEntry[] = [
  // Issue 10: hop-by-hop removal of framing and routing fields.
  {
    name: "Connection: Content-Length (body read as a 2nd request)",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: ${NEXT.length}\r\nConnection: Content-Length\r\n\r\n${NEXT}`,
    status: 400,
  },
  {
    name: "Connection: close, Content-Length",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: ${NEXT.length}\r\nConnection: close, Content-Length\r\n\r\n${NEXT}`,
    status: 400,
  },
  {
    name: "Connection: Transfer-Encoding",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  { name: "Connection: Host", bytes: `GET / HTTP/1.1\r\n${H}Connection: Host\r\n\r\n`, status: 400 },
  {
    name: "HTTP/1.0 Connection: Content-Length",
    bytes: `POST / HTTP/1.0\r\n${H}Content-Length: ${NEXT.length}\r\nConnection: keep-alive, Content-Length\r\n\r\n${NEXT}`,
    status: 400,
  },
  { name: "duplicate Host", bytes: `GET / HTTP/1.1\r\n${H}Host: other.test\r\n\r\n`, status: 400 },
  {
    name: "TE gzip, chunked keeps its codings",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    status: 200,
  },
  {
    name: "TE chunked, gzip (chunked not last)",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "absolute-form target",
    bytes: `GET http://fuzz.test/abs?x=1 HTTP/1.1\r\nHost: other.test\r\n\r\n`,
    status: 200,
  },
  {
    name: "absolute-form with userinfo",
    bytes: `GET http://user@fuzz.test/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
  },
  { name: "CONNECT", bytes: `CONNECT fuzz.test:443 HTTP/1.1\r\n${H}\r\n`, status: 405 },
  { name: "bare LF line endings", bytes: `GET / HTTP/1.1\n${H.replace("\r", "")}\n`, status: 400 },
  {
    name: "refused upgrade followed by a request",
    bytes: `GET / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: foo/1\r\n\r\n${NEXT}`,
    status: 200,
  },
  {
    name: "upgrade with a body",
    bytes: `POST / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: foo/1\r\nContent-Length: ${NEXT.length}\r\n\r\n${NEXT}`,
    status: 400,
  },
  // CL.TE / TE.CL / TE.TE (HTTP Desync Attacks).
  {
    name: "CL.TE",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
    status: 400,
  },
  {
    name: "TE.CL",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "TE with space before colon",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n5c\r\n`,
    status: 400,
  },
  {
    name: "TE xchunked",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "TE with vertical tab",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "TE obs-fold",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "two TE fields",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "TE: chunked, chunked",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "TE with parameters",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;ext=val\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  // CL.CL.
  {
    name: "two differing Content-Length",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    status: 400,
  },
  {
    name: "Content-Length list",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    status: 400,
  },
  {
    name: "Content-Length with sign",
    bytes: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    status: 400,
  },
  { name: "Content_Length (underscore)", bytes: `POST / HTTP/1.1\r\n${H}Content_Length: 5\r\n\r\nhello` },
  // 0.CL and Expect ("HTTP/1.1 must die").
  {
    name: "0.CL: Content-Length obfuscated by a leading space in the name",
    bytes: `GET / HTTP/1.1\r\n${H} Content-Length: ${NEXT.length}\r\n\r\n${NEXT}`,
    status: 400,
  },
  {
    name: "Expect: 100-continue with a body",
    bytes: `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
    status: 100,
  },
  {
    name: "Expect: y 100-continue",
    bytes: `POST / HTTP/1.1\r\n${H}Expect: y 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
    status: 100, // node: any Expect naming 100-continue
  },
  // Chunk tricks (TERM.EXT, bare LF terminators, oversized sizes).
  {
    name: "TERM.EXT: bare LF in a chunk extension",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "bare LF after chunk data",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "bare LF ending the trailers",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n`,
  },
  {
    name: "chunk size overflow",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "chunk size 0x",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "chunk size with trailing space",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: "quoted chunk extension with a semicolon",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="b;c"\r\nhello\r\n0\r\n\r\n`,
    status: 200,
  },
  {
    name: "trailer carrying Content-Length",
    bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n${NEXT}`,
    status: 400, // llhttp refuses Content-Length in trailers
  },
  // Request line and field syntax.
  { name: "bare CR in a field value", bytes: `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, status: 400 },
  { name: "NUL in a field value", bytes: `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, status: 400 },
  { name: "obs-fold in a field", bytes: `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, status: 400 },
  { name: "double space in the request line", bytes: `GET  / HTTP/1.1\r\n${H}\r\n` },
  { name: "HTTP/1.2", bytes: `GET / HTTP/1.2\r\n${H}\r\n` },
  { name: "lower-case method", bytes: `get / HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: "HTTP/1.1 without Host", bytes: `GET / HTTP/1.1\r\n\r\n`, status: 400 },
  {
    name: "HTTP/1.1 upgrade without Host",
    bytes: `GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    status: 400,
  },
  { name: "HTTP/1.0 without Host (allowed)", bytes: `GET / HTTP/1.0\r\n\r\n`, status: 200 },
  {
    name: "Expect other than 100-continue",
    bytes: `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello`,
    status: 417,
  },
  {
    name: "pipelined pair",
    bytes: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    status: 200,
  },
  // Found by the fuzzer (seed 20261205): a refused target, then a pipelined request.
  {
    name: "fuzz: ftp:// target with Upgrade, then requests",
    bytes: `HEAD ftp://fuzz.test/ HTTP/1.1\r\nUpgrade:h2c\r\n${H}\r\n${NEXT}GET /second HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
  },
  // Found by the fuzzer (seed 1800417885): node's server parses requests pipelined behind an answer
  // that closes the connection; they must not reach the replica.
  {
    name: "fuzz: no Host (absolute-form with userinfo), then pipelined requests",
    bytes: `PATCH http://user@fuzz.test/ HTTP/1.1\r\nX-Forwarded-Host: 6.6.6.6\r\n\r\n${NEXT}POST /second HTTP/1.1\r\n${H}Content-Length: 3\r\nConnection: close\r\n\r\nxyz`,
    status: 400,
  },
  {
    name: "node path: a refusal (Connection: Host), then pipelined requests",
    bytes: `GET / HTTP/1.0\r\n${H}Connection: keep-alive, Host\r\n\r\n${NEXT}POST /second HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nxyz`,
    status: 400,
  },
  {
    name: "node path: 413 by Content-Length, then pipelined requests",
    bytes: `POST http://fuzz.test/ HTTP/1.1\r\n${H}Content-Length: 99999999\r\n\r\n${NEXT}`,
    status: 413,
  },
];

/** Hostile replica answers: each must reach the client as a `502`, or as llhttp reads it. */
export const RESPONSE_CORPUS: { name: string; bytes: string; status?: number }[] = [
  { name: "status 2e2", bytes: "HTTP/1.1 2e2 OK\r\nContent-Length: 0\r\n\r\n", status: 502 },
  { name: "HTTP/1.9", bytes: "HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n", status: 502 },
  {
    name: "bare LF in the reason (header injection)",
    bytes: "HTTP/1.1 200 OK\nSet-Cookie: injected=1\r\nContent-Length: 0\r\n\r\n",
    status: 502,
  },
  { name: "bare CR in the reason", bytes: "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n", status: 502 },
  { name: "NUL in the reason", bytes: "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n", status: 502 },
  {
    name: "CL and TE",
    bytes:
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    status: 502,
  },
  {
    name: "bad chunk size after the head",
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    status: 502,
  },
  {
    name: "closed before the first body byte",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    status: 502,
  },
  {
    name: "gzip, chunked",
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nGZ\r\n0\r\n\r\n",
    status: 200,
  },
  {
    name: "204 with a Content-Length and a body",
    bytes: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    status: 204,
  },
  {
    name: "304 keeps its Content-Length",
    bytes: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
    status: 304,
  },
  {
    name: "a second response smuggled after the first",
    bytes:
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled",
    status: 200,
  },
  {
    name: "Connection: Content-Length",
    bytes: "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello",
    status: 200,
  },
  // Repeated framing fields (issue 10: a repeated Content-Length, of the same value too, is a 502).
  {
    name: "Content-Length twice, same value",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    status: 502,
  },
  {
    name: "Content-Length twice, differing",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 13\r\n\r\nhello",
    status: 502,
  },
  {
    name: "Content-Length list 5, 5",
    bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
    status: 502,
  },
  {
    name: "Content-Length twice in a 304",
    bytes: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
    status: 502,
  },
  {
    name: "Content-Length twice around Transfer-Encoding",
    bytes:
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    status: 502,
  },
  {
    name: "two Transfer-Encoding fields and a Content-Length",
    bytes:
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    status: 502,
  },
  {
    name: "Transfer-Encoding: chunked twice",
    bytes:
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    status: 502,
  },
  {
    name: "empty Transfer-Encoding and a Content-Length",
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello",
    status: 502,
  },
  {
    name: "Transfer-Encoding with an empty coding",
    bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    status: 502,
  },
  {
    name: "101 to a plain request",
    bytes: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    status: 502,
  },
];
