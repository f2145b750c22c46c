/**
 * What the differential fuzzer observes, on loopback: an HTTP server whose parser is node's own
 * (llhttp) recording each message it frames — used both as the replica behind the edge and as the
 * reference the original bytes are sent to — and a raw client that sends bytes and collects the
 * answer until the connection closes or falls quiet.
 */
import http from "node:http";
import net from "node:net";

/** One message as llhttp framed it. */
export interface Seen {
  kind: "request" | "upgrade";
  method: string;
  url: string;
  version: string;
  rawHeaders: string[];
  body: Buffer;
}

/**
 * A node:http server recording what it parses. It answers every request `200` with a body naming
 * it. An upgrade to `websocket` is switched (`101`, then bytes are only counted); any other upgrade
 * is answered `200` and the connection goes on as HTTP — the lenient replica a smuggler hopes for.
 */
export class Recorder {
  readonly server: http.Server;
  readonly seen: Seen[] = [];
  /** What llhttp refused (`HPE_…`), in order. */
  readonly errors: string[] = [];
  /** Bytes received after a 101. */
  tunnelled = 0;
  /** Last time anything arrived (ms epoch): the client's wait for quiet looks at it. */
  lastActivity = 0;
  port = 0;
  #sockets = new Set<net.Socket>();

  constructor() {
    this.server = http.createServer((req, res) => {
      // Recorded at once: a parse error in a pipelined next message must not hide this one.
      const m = message("request", req, Buffer.alloc(0));
      this.seen.push(m);
      req.on("data", (c: Buffer) => (m.body = Buffer.concat([m.body, c])));
      req.on("end", () => {
        this.lastActivity = Date.now();
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(`seen ${req.method ?? ""} ${req.url ?? ""}`);
      });
    });
    this.server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.seen.push(message("upgrade", req, Buffer.alloc(0)));
      this.lastActivity = Date.now();
      if (/websocket/i.test(String(req.headers.upgrade))) {
        socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        this.tunnelled += head.length;
        socket.on("data", (d: Buffer) => {
          this.tunnelled += d.length;
          this.lastActivity = Date.now();
        });
        return;
      }
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nno upgrade!");
      // Go on parsing HTTP on this connection, from the bytes after the head.
      if (head.length > 0) socket.unshift(head);
      this.server.emit("connection", socket);
    });
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
      this.errors.push(err.code ?? err.message);
      this.lastActivity = Date.now();
      socket.destroy();
    });
    this.server.on("connection", (s: net.Socket) => {
      this.#sockets.add(s);
      s.on("data", () => (this.lastActivity = Date.now()));
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Forgets what was recorded (between cases). */
  clear(): void {
    this.seen.length = 0;
    this.errors.length = 0;
    this.tunnelled = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function message(kind: Seen["kind"], req: http.IncomingMessage, body: Buffer): Seen {
  return {
    kind,
    method: req.method ?? "",
    url: req.url ?? "",
    version: req.httpVersion,
    rawHeaders: req.rawHeaders,
    body,
  };
}

/** How long a case with no reaction at all is waited for. */
const QUIET_START_MS = 300;

/** What a raw client received. */
export interface Received {
  bytes: Buffer;
  /** The other side closed (rather than falling quiet). */
  closed: boolean;
}

/**
 * Sends `bytes` to `port`; resolves when the connection closes, or when neither it nor `activity()`
 * changed for `quietMs`, or after `maxMs`.
 */
export function send(
  port: number,
  bytes: Buffer,
  opts: { quietMs: number; maxMs: number; activity?: () => number },
): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const started = Date.now();
    let last = started;
    let done = false;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed });
    };
    const timer = setInterval(() => {
      const now = Date.now();
      const since = Math.max(last, opts.activity?.() ?? 0);
      // Quiet counts once something happened (a loaded machine may take a while to start).
      const stirred = since > started || now - started >= QUIET_START_MS;
      if ((stirred && now - since >= opts.quietMs) || now - started >= opts.maxMs) finish(false);
    }, 5);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      last = Date.now();
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
  });
}
