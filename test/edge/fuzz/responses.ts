/**
 * The response direction of the differential fuzzer: a replica that answers the first request of a
 * case with scripted (hostile) bytes, and later requests with a plain `second`; a client (node's
 * http, so llhttp) that asks twice on one keep-alive connection through the edge, and once straight
 * to the replica for llhttp's reading of the script. The edge must answer the first with a `502`
 * (or close), or with what llhttp read; the second must never get bytes left over from the first.
 */
import fc from "fast-check";
import http from "node:http";
import { createRequire } from "node:module";
import net from "node:net";

/** Node's binding of llhttp (what its http client and server parse with). */
const HTTPParser = createRequire(import.meta.url)("_http_common").HTTPParser as LlhttpParserClass;

interface LlhttpParser {
  initialize(type: number, resource: object): void;
  execute(b: Buffer): number | (Error & { code?: string });
  finish(): undefined | (Error & { code?: string });
  [k: number]: unknown;
}
interface LlhttpParserClass {
  new (): LlhttpParser;
  RESPONSE: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const SECOND = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond";
const SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled";

/** A raw TCP replica: the first request of a case gets `script`, the others `SECOND`. */
export class ScriptedReplica {
  readonly server: net.Server;
  port = 0;
  script: Buffer = Buffer.alloc(0);
  closeAfter = false;
  #used = true;
  #sockets = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      let pending = "";
      socket.on("data", (d: Buffer) => {
        pending += d.toString("latin1");
        let end: number;
        while ((end = pending.indexOf("\r\n\r\n")) >= 0) {
          pending = pending.slice(end + 4);
          if (this.#used) {
            socket.write(SECOND);
            continue;
          }
          this.#used = true;
          socket.write(this.script);
          if (this.closeAfter) socket.end();
        }
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  arm(script: Buffer, closeAfter: boolean): void {
    this.script = script;
    this.closeAfter = closeAfter;
    this.#used = false;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What node's client made of one answer. */
export interface Got {
  status?: number;
  headers?: [string, string][];
  body?: string;
  error?: string;
}

function get(port: number, path: string, agent: http.Agent): Promise<Got> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, agent, headers: { host: "scripted.test" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => resolve({ error: e.message }));
        res.on("aborted", () => resolve({ error: "aborted" }));
        res.on("end", () => {
          const headers: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            headers.push([(res.rawHeaders[i] as string).toLowerCase(), res.rawHeaders[i + 1] as string]);
          resolve({ status: res.statusCode, headers, body: Buffer.concat(chunks).toString("latin1") });
        });
      },
    );
    req.setTimeout(2_500, () => req.destroy(new Error("client timeout")));
    req.on("error", (e) => resolve({ error: e.message }));
  });
}

export interface ResponseOutcome {
  reference: Got;
  edge: [Got, Got];
}

/**
 * llhttp's reading of the first final response in `bytes` (a response to GET; what follows it is
 * the connection's business, not the message's), as node's client would deliver it.
 */
export function llhttpRead(bytes: Buffer): Got {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {});
  let got: Got | null = null;
  const body: Buffer[] = [];
  let complete = false;
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    raw: string[],
    _method: unknown,
    _url: unknown,
    status: number,
  ): number => {
    if (got !== null || (status < 200 && status !== 101)) return 0;
    const headers: [string, string][] = [];
    for (let i = 0; i < raw.length; i += 2)
      headers.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
    got = { status, headers };
    return 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer): void => {
    if (got !== null && !complete) body.push(Buffer.from(b));
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    if (got !== null) complete = true;
  };
  const r = parser.execute(bytes);
  if (!complete && !(r instanceof Error)) {
    const f = parser.finish();
    if (f instanceof Error && !complete) return { error: `${f.code ?? ""} ${f.message}` };
  }
  if (!complete) return { error: r instanceof Error ? `${r.code ?? ""} ${r.message}` : "incomplete" };
  return { ...(got as unknown as Got), body: Buffer.concat(body).toString("latin1") };
}

/**
 * Which of the edge's client sides serves the case: the fast path (origin-form targets), or node's
 * HTTP server (an absolute-form target is outside the fast path's subset: the connection is handed
 * over at its first request and stays there).
 */
export type Via = "fast" | "node";

/** Sends the case twice through the edge; llhttp reads the script itself for the reference. */
export async function responseCase(
  replica: ScriptedReplica,
  edgePort: number,
  script: Buffer,
  closeAfter: boolean,
  via: Via = "fast",
): Promise<ResponseOutcome> {
  const reference = llhttpRead(script);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  replica.arm(script, closeAfter);
  const prefix = via === "node" ? "http://scripted.test" : "";
  const first = await get(edgePort, `${prefix}/1`, agent);
  const second = await get(edgePort, `${prefix}/2`, agent);
  agent.destroy();
  return { reference, edge: [first, second] };
}

const DROP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "date",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
]);

function endToEnd(g: Got): [string, string][] {
  const named = new Set<string>();
  for (const [n, v] of g.headers ?? [])
    if (n === "connection") for (const t of v.split(",")) named.add(t.trim().toLowerCase());
  const keepLength = g.status === 304;
  return (g.headers ?? []).filter(
    ([n]) => !DROP.has(n) && !named.has(n) && (keepLength || n !== "content-length"),
  );
}

const isEdgeAnswer = (g: Got): boolean =>
  g.body !== undefined && /^\{"error":\{"code":"[A-Z_]+"/.test(g.body);

/** Problems with one response case. */
export function judgeResponses(o: ResponseOutcome): string[] {
  const [first, second] = o.edge;
  const problems: string[] = [];
  const firstOk = first.error === undefined && !isEdgeAnswer(first);
  if (firstOk) {
    const ref = o.reference;
    if (ref.error !== undefined) {
      problems.push(`the edge passed on (${first.status}) a response llhttp refuses (${ref.error})`);
    } else {
      const want = JSON.stringify({ status: ref.status, headers: endToEnd(ref), body: ref.body });
      const got = JSON.stringify({ status: first.status, headers: endToEnd(first), body: first.body });
      if (want !== got) problems.push(`response differs:\n  llhttp read  ${want}\n  client got   ${got}`);
    }
  }
  if (
    second.error === undefined &&
    !isEdgeAnswer(second) &&
    !(second.status === 200 && second.body === "second")
  )
    problems.push(`the next request got something else than its own answer: ${JSON.stringify(second)}`);
  return problems;
}

const statusLines = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.0 200 OK") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "HTTP/1.1 204 No Content",
      "HTTP/1.1 304 Not Modified",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "HTTP/1.1 2e2 OK",
      "HTTP/1.9 200 OK",
      "HTTP/2 200 OK",
      "HTTP/1.1 200",
      "HTTP/1.1 200 ",
      "HTTP/1.1 20 OK",
      "HTTP/1.1 0200 OK",
      "HTTP/1.1 200 O\rK",
      "HTTP/1.1 200 O\nSet-Cookie: injected=1",
      "HTTP/1.1 200 O\0K",
      "HTTP/1.1 200 \u00e9t\u00e9",
      "HTTP/1.1 101 Switching Protocols",
      "http/1.1 200 OK",
      "HTTP/1.1  200 OK",
    ),
  },
);

const responseHeaders = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "Content-Length: 5",
      "Content-Length: 0",
      "Content-Length: 12",
      "Content-Length: 5, 5",
      "Content-Length: 5\r\nContent-Length: 6",
      "Content-Length: +5",
      "Content-Length:  5 ",
      "Content-Length: 5\r\nContent-Length: 5",
    ),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: gzip, chunked",
      "Transfer-Encoding: chunked, gzip",
      "Transfer-Encoding: gzip",
      "Transfer-Encoding: xchunked",
      "Transfer-Encoding: Chunked",
      "Transfer-Encoding:\r\n chunked",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "Connection: close",
      "Connection: keep-alive",
      "Connection: Content-Length",
      "Connection: Transfer-Encoding",
      "Connection: X-A",
      "Keep-Alive: timeout=1",
      "Upgrade: websocket",
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "X-A: 1",
      "X-A: a\tb",
      "X-A: \u00e9",
      "X-A: a\0b",
      "X-A: a\rb",
      "X A: 1",
      "X-A : 1",
      "Set-Cookie: a=1\r\nSet-Cookie: b=2",
      "Trailer: X-T",
      "Date: Mon, 01 Jan 2024 00:00:00 GMT",
    ),
  },
);

const bodies = fc.constantFrom(
  "",
  "hello",
  "hello world!",
  "5\r\nhello\r\n0\r\n\r\n",
  "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
  "5;e=1\r\nhello\r\n0\r\n\r\n",
  "5\nhello\r\n0\r\n\r\n",
  "0x5\r\nhello\r\n0\r\n\r\n",
  "5 \r\nhello\r\n0\r\n\r\n",
  "6\r\nhello\r\n0\r\n\r\n",
  "5\r\nhelloXX0\r\n\r\n",
  `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
  `hello${SMUGGLED}`,
  SMUGGLED,
);

/** Responses, hostile ones included; `closeAfter`: the replica closes after sending them. */
export const fuzzResponses: fc.Arbitrary<{ bytes: Buffer; closeAfter: boolean }> = fc
  .record({
    status: statusLines,
    headers: fc.array(responseHeaders, { maxLength: 4 }),
    body: bodies,
    closeAfter: fc.constantFrom(true, true, false),
  })
  .map((r) => ({
    bytes: Buffer.from(`${r.status}\r\n${r.headers.map((h) => `${h}\r\n`).join("")}\r\n${r.body}`, "latin1"),
    closeAfter: r.closeAfter,
  }));
