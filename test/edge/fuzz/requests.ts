/**
 * A seeded generator of HTTP/1.x requests for the differential fuzzer, hostile ones included: the
 * smuggling families of public desync research (CL.TE, TE.CL, TE.TE, CL.CL), obfuscated framing
 * fields (case, whitespace, `_`, vertical tab, obs-fold), bare CR/LF and NUL, chunk-size tricks,
 * chunk extensions and trailers, `Connection` naming framing fields, upgrades, absolute-form and
 * odd targets, `Expect`, and a second message pipelined behind the first.
 *
 * Never generated: `X-Forwarded-Proto: http` — the edge writes exactly that into every message it
 * forwards, so the oracle can tell a forwarded message from bytes that slipped through raw.
 */
import fc from "fast-check";

const FQDN = "fuzz.test";
const SMUGGLED = `GET /smuggled HTTP/1.1\r\nHost: ${FQDN}\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`;

const methods = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS") },
  { weight: 1, arbitrary: fc.constantFrom("HEAD", "get", "G ET", "FOO", "CONNECT", "POST\t") },
);

const targets = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("/", "/a?b=1", "/p/../q", "//double") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `http://${FQDN}/abs?x=1`,
      `HTTP://${FQDN}`,
      `http://user@${FQDN}/`,
      `ftp://${FQDN}/`,
      "*",
      `${FQDN}:80`,
      "/sp ace",
      "/tab\t",
      "/\x7f",
      "/%00",
      "/\u00e9",
    ),
  },
);

const versions = fc.oneof(
  { weight: 10, arbitrary: fc.constant("HTTP/1.1") },
  { weight: 2, arbitrary: fc.constant("HTTP/1.0") },
  { weight: 1, arbitrary: fc.constantFrom("HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/1.1 ", "HTTP/1.1\t") },
);

const lineEnds = fc.oneof(
  { weight: 30, arbitrary: fc.constant("\r\n") },
  { weight: 1, arbitrary: fc.constantFrom("\n", "\r", "\r\r\n", " \r\n", "\r\n\0") },
);

/** A header line's text without its line end. */
const pick = (names: string[], values: string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...names),
      fc.constantFrom(":", ": ", ":\t", " :", ":  "),
      fc.constantFrom(...values),
    )
    .map(([n, sep, v]) => `${n}${sep}${v}`);

const lengthValues = [
  "0",
  "5",
  "11",
  "44",
  " 5",
  "5 ",
  "+5",
  "05",
  "-1",
  "5, 5",
  "5,11",
  "0x5",
  "5\x0b",
  "1e1",
  "99999999999999999999",
];

const headerLines = fc.oneof(
  { weight: 4, arbitrary: pick(["Content-Length", "content-length", "CONTENT-LENGTH"], lengthValues) },
  {
    weight: 1,
    arbitrary: pick(
      ["Content-Length ", " Content-Length", "Content_Length", "Content-Length\x0b"],
      lengthValues,
    ),
  },
  {
    weight: 4,
    arbitrary: pick(
      ["Transfer-Encoding", "transfer-encoding"],
      [
        "chunked",
        "chunked",
        "Chunked",
        " chunked",
        "chunked ",
        "gzip, chunked",
        "chunked, gzip",
        "chunked, chunked",
        "xchunked",
        "chunked\x0b",
        "identity",
        "\tchunked",
        "chunked;q=1",
        "gzip",
      ],
    ),
  },
  {
    weight: 1,
    arbitrary: pick(
      ["Transfer-Encoding ", "Transfer_Encoding", " Transfer-Encoding", "Transfer-Encoding\x0b"],
      ["chunked"],
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "Transfer-Encoding:\r\n chunked",
      "X-Fold: a\r\n b",
      "Content-Length:\r\n 5",
      "X-Fold: a\r\n\tb",
    ),
  },
  {
    weight: 3,
    arbitrary: pick(
      ["Connection", "connection"],
      [
        "close",
        "keep-alive",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "close, Content-Length",
        "X-Drop",
        "Upgrade",
        "keep-alive, transfer-encoding",
        "te",
        "X-Forwarded-For",
      ],
    ),
  },
  { weight: 2, arbitrary: pick(["Upgrade"], ["websocket", "h2c", "foo/1"]) },
  { weight: 1, arbitrary: pick(["Expect"], ["100-continue", "100-Continue", "foo"]) },
  { weight: 1, arbitrary: pick(["Host", "host"], [FQDN, "other.test", `${FQDN}:8080`, "", "a b", "x\0y"]) },
  {
    weight: 1,
    arbitrary: pick(
      ["TE", "Trailer", "Keep-Alive", "Proxy-Connection", "X-Drop"],
      ["trailers", "X-T", "timeout=5", "keep-alive", "1"],
    ),
  },
  {
    weight: 1,
    arbitrary: pick(
      ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"],
      ["6.6.6.6", "https", "evil.test"],
    ),
  },
  {
    weight: 3,
    arbitrary: pick(
      ["X-F", "x-f", "X F", "X-F\0", "X\u00e9"],
      ["plain", "tab\there", "obs\u00e9", "nul\0x", "cr\rx", "lf\nx", "  spaced  ", ""],
    ),
  },
);

const sizeForms = fc.constantFrom(
  "hex",
  "HEX",
  "pad",
  "0x",
  "space",
  "ext",
  "quoted",
  "badext",
  "bare-lf",
  "neg",
);

/** One chunk line for `n` bytes (RFC 9112 §7.1, and the tricks readers disagree on). */
function chunkLine(n: number, form: string): string {
  const hex = n.toString(16);
  switch (form) {
    case "HEX":
      return `${hex.toUpperCase()}\r\n`;
    case "pad":
      return `000${hex}\r\n`;
    case "0x":
      return `0x${hex}\r\n`;
    case "space":
      return `${hex} \r\n`;
    case "ext":
      return `${hex};name=value\r\n`;
    case "quoted":
      return `${hex};a="b;c"\r\n`;
    case "badext":
      return `${hex};a\rb\r\n`;
    case "bare-lf":
      return `${hex}\n`;
    case "neg":
      return `-${hex}\r\n`;
    default:
      return `${hex}\r\n`;
  }
}

const chunkedBodies = fc
  .record({
    pieces: fc.array(fc.tuple(fc.constantFrom("abc", "hello world", SMUGGLED, "0\r\n\r\n"), sizeForms), {
      maxLength: 3,
    }),
    lie: fc.constantFrom(0, 0, 0, 1, -1),
    trailers: fc.constantFrom("", "", "X-Trailer: 1\r\n", "Content-Length: 99\r\n", "X-T: a\nb\r\n"),
    lastForm: fc.constantFrom("0\r\n", "0\r\n", "00\r\n", "0;ext\r\n", "0\n"),
  })
  .map(({ pieces, lie, trailers, lastForm }) => {
    let text = "";
    for (const [data, form] of pieces) text += `${chunkLine(data.length + lie, form)}${data}\r\n`;
    return `${text}${lastForm}${trailers}\r\n`;
  });

const plainBodies = fc.constantFrom("", "hello", "hello world", SMUGGLED, `hello${SMUGGLED}`, "0\r\n\r\n");

/** The message after the first, pipelined on the same connection. */
const seconds = fc.constantFrom(
  "",
  `GET /second HTTP/1.1\r\nHost: ${FQDN}\r\nConnection: close\r\n\r\n`,
  `GET /second HTTP/1.1\r\nHost: ${FQDN}\r\nConnection: close\r\n\r\n`,
  `POST /second HTTP/1.1\r\nHost: ${FQDN}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxyz`,
);

export interface FuzzRequest {
  /** The bytes sent on one connection. */
  bytes: Buffer;
}

/** Requests, hostile ones included; a `Host` line is added unless `noHost` was drawn. */
export const fuzzRequests: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: methods,
    target: targets,
    version: versions,
    headers: fc.array(fc.tuple(headerLines, lineEnds), { maxLength: 6 }),
    hostAt: fc.nat(6),
    noHost: fc.constantFrom(false, false, false, false, true),
    requestEnd: lineEnds,
    body: fc.oneof(plainBodies, chunkedBodies),
    second: seconds,
  })
  .map((r) => {
    const lines = r.headers.map(([text, end]) => `${text}${end}`);
    if (!r.noHost) lines.splice(Math.min(r.hostAt, lines.length), 0, `Host: ${FQDN}\r\n`);
    const head = `${r.method} ${r.target} ${r.version}${r.requestEnd}${lines.join("")}\r\n`;
    return { bytes: Buffer.from(`${head}${r.body}${r.second}`, "latin1") };
  });
