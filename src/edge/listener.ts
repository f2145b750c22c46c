/**
 * @module edge/listener
 * The edge on one listen address and port. Connections start on the fast path (`LeanConnection`:
 * the edge reads request heads itself); a connection whose request is outside the fast path's
 * strict subset is handed to node's HTTP server, which serves it from then on (its requests become
 * `NodeDownstream`s, its upgrades tunnels). Either way a request is matched to one of the port's
 * routes and proxied by an `Exchange`.
 *
 * Limits (edge/limits): a connection over the listener's cap, its client address's cap or the
 * edge-wide descriptor budget is refused at once. A client has `headersTimeoutMs` (10 s by default)
 * from the first byte of a request head to its end, apart from the keep-alive idle time and the
 * whole-request time. With an access log, each request is written to it (edge/access-record).
 *
 * `close()` is graceful: stop accepting, close idle client connections, answer held requests
 * `503 EDGE_CLOSING`, let in-flight responses finish (with `Connection: close`) up to a timeout,
 * then close what is left.
 */
import http, { type IncomingMessage } from "node:http";
import type net from "node:net";
import type { AccessLog } from "./access-log.js";
import { AccessRecord, accessLine, recordOf, type RecordHost } from "./access-record.js";
import { ANSWER, answer, answerSocket, isClosing, type Answer } from "./answers.js";
import { LeanConnection, Phase, type LeanHost } from "./downstream/lean-connection.js";
import { EdgeRequest, EdgeResponse, NodeDownstream } from "./downstream/node-downstream.js";
import { GUARDED_SERVER_OPTIONS, guardNodeServer, missingHost } from "./downstream/node-guards.js";
import { EdgeListenError } from "./errors.js";
import { Exchange, type ExchangeHost } from "./exchange.js";
import { ConnectionBudget, ConnectionLimits, type ListenerCaps, type RefusalCounts } from "./limits.js";
import { hostField, RouteMatcher } from "./match.js";
import type { EdgeRoute } from "./route.js";
import type { RoutingTable } from "./routing-table.js";
import { openTunnel, type TunnelHost } from "./tunnel.js";

export interface ListenerOptions {
  /** Idle time after which a client's keep-alive connection is closed. @default 5000 */
  keepAliveTimeoutMs: number;
  /** Time a client has to send a request's head, from its first byte. @default 10000 */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (head and body). @default 300000 (node's) */
  requestTimeoutMs: number;
  /** Caps on client connections (per listener, per client address). */
  caps: ListenerCaps;
  /** The edge-wide connection count and cap (shared by all listeners). */
  budget: ConnectionBudget;
  /** Where each request is logged; null: no access log. */
  accessLog: AccessLog | null;
}

/** What a listener counted, for status and logs. */
export interface ListenerStats {
  listen: string;
  /** Client connections open now. */
  connections: number;
  /** Connections refused over a cap, by cap, since the start. */
  refused: RefusalCounts;
  /** Request heads not complete within the head timeout (answered `408`), since the start. */
  headTimeouts: number;
}

type ConnectionListener = (socket: net.Socket) => void;

/** How often the fast path's timeouts are checked. */
const SWEEP_MS = 1_000;

/** How long a graceful close waits for a just-accepted connection's first request. */
const FRESH_GRACE_MS = 1000;

export class EdgeListener implements ExchangeHost, RecordHost, TunnelHost, LeanHost {
  readonly server: http.Server<typeof EdgeRequest, typeof EdgeResponse>;
  readonly matcher: RouteMatcher<EdgeRoute>;
  readonly tunnels = new Set<net.Socket>();
  readonly lean = new Set<LeanConnection>();
  readonly keepAliveTimeoutMs: number;
  readonly limits: ConnectionLimits;
  /** `address:port` (the port bound) for the access log. */
  listenLabel: string;
  readonly #log: AccessLog | null;
  #headTimeouts = 0;
  closing = false;
  #active = 0;
  #idle: (() => void)[] = [];
  /** Node's own `connection` handler, called for the connections handed over. */
  readonly #nodeConnection: ConnectionListener;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly routes: readonly EdgeRoute[],
    readonly table: RoutingTable,
    readonly options: ListenerOptions,
  ) {
    this.matcher = new RouteMatcher(routes);
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs;
    this.limits = new ConnectionLimits(options.caps, options.budget);
    this.listenLabel = `${address.includes(":") ? `[${address}]` : address}:${port}`;
    this.#log = options.accessLog;
    this.server = http.createServer<typeof EdgeRequest, typeof EdgeResponse>(
      {
        IncomingMessage: EdgeRequest,
        ServerResponse: EdgeResponse,
        noDelay: true,
        requestTimeout: options.requestTimeoutMs,
        headersTimeout: options.headersTimeoutMs,
        // Node checks its timeouts every 30 s by default: too coarse for a 10 s head timeout.
        connectionsCheckingInterval: Math.min(SWEEP_MS, options.headersTimeoutMs),
        ...GUARDED_SERVER_OPTIONS,
      },
      (req, res) => this.#onRequest(req, res),
    );
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs;
    // JSON 400/413/431 for what llhttp refuses, 405 CONNECT, 417, 100-continue; each in the access log.
    guardNodeServer(this.server, (a, socket, req) =>
      this.#logAnswer(req?.method ?? null, req?.url ?? null, socket.remoteAddress, a),
    );
    this.server.on("upgrade", (req: IncomingMessage, socket: net.Socket, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    // Connections start on the fast path; node's handler serves those handed over.
    const [nodeConnection] = this.server.listeners("connection") as ConnectionListener[];
    if (nodeConnection === undefined) throw new Error("node's HTTP server has no connection listener");
    this.#nodeConnection = nodeConnection;
    this.server.removeListener("connection", nodeConnection);
    this.server.on("connection", (socket: net.Socket) => this.#onConnection(socket));
  }

  /** Exchanges not finished yet. */
  get active(): number {
    return this.#active;
  }

  get stats(): ListenerStats {
    return {
      listen: this.listenLabel,
      connections: this.limits.open,
      refused: { ...this.limits.refused },
      headTimeouts: this.#headTimeouts,
    };
  }

  /** The listening socket's file descriptor, to hand to the next daemon (`steward daemon restart`). */
  get fd(): number | undefined {
    const handle = (this.server as unknown as { _handle?: { fd?: number } })._handle;
    return typeof handle?.fd === "number" && handle.fd >= 0 ? handle.fd : undefined;
  }

  /**
   * Binds the port — or, with `fd`, serves a listening socket the previous daemon handed over, so
   * connections that arrive meanwhile wait in its backlog instead of being refused.
   * @throws EdgeListenError (port in use, naming its holder when it can)
   */
  listen(fd?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new EdgeListenError(this.address, this.port, this.#routeList(), err));
      };
      this.server.once("error", onError);
      const where = fd === undefined ? { host: this.address, port: this.port, exclusive: true } : { fd };
      this.server.listen(where, () => {
        this.server.off("error", onError);
        this.listenLabel = `${this.address.includes(":") ? `[${this.address}]` : this.address}:${this.boundPort}`;
        this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
        this.#sweeper.unref();
        resolve();
      });
    });
  }

  /** The port actually bound (differs from `port` when it was 0). */
  get boundPort(): number {
    const a = this.server.address();
    return typeof a === "object" && a !== null ? a.port : this.port;
  }

  // ExchangeHost
  exchangeDone(): void {
    this.#active -= 1;
    if (this.#active === 0 && this.#idle.length > 0) for (const w of this.#idle.splice(0)) w();
  }

  // LeanHost
  request(conn: LeanConnection): void {
    const route = this.matcher.match(hostField(conn.rawHeaders), conn.url);
    if (route === undefined) {
      const a = this.#noRoute(conn.method, conn.rawHeaders, conn.url);
      conn.answer(a);
      this.#logAnswer(conn.method, conn.url, conn.remoteAddress, a);
      return;
    }
    this.#active += 1;
    const log = this.#log;
    if (log === null) {
      const ex = new Exchange(this, route, conn);
      conn.client = ex;
      ex.start();
      return;
    }
    const record = new AccessRecord(this, conn, log, route.logLabel);
    const ex = new Exchange(record, route, record);
    record.exchange = ex;
    conn.client = ex;
    ex.start();
  }

  handOver(conn: LeanConnection, bytes: Buffer | null): void {
    this.lean.delete(conn);
    const socket = conn.socket;
    if (socket.destroyed) return;
    this.#nodeConnection.call(this.server, socket);
    if (bytes !== null) socket.emit("data", bytes);
    if (socket.isPaused()) socket.resume();
  }

  closed(conn: LeanConnection): void {
    this.lean.delete(conn);
  }

  /**
   * Graceful close, bounded by `timeoutMs`.
   * @returns requests still in flight when the timeout ran out (they were cut).
   */
  async close(timeoutMs: number): Promise<number> {
    this.closing = true;
    clearInterval(this.#sweeper);
    for (const route of this.routes) {
      for (const held of route.takeHeld()) held.refuseClosing();
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // An idle keep-alive connection is closed now (its client reconnects). A fresh one accepted an
    // instant ago may have its first request on the way: closing it would reset that request, so it
    // gets a moment to arrive (it is answered with `Connection: close`).
    for (const conn of this.lean) if (conn.phase === Phase.Idle && conn.served > 0) conn.destroy();
    const freshUntil = Date.now() + Math.min(FRESH_GRACE_MS, timeoutMs);
    while (Date.now() < freshUntil && [...this.lean].some((c) => c.phase === Phase.Idle && c.served === 0))
      await new Promise((r) => setTimeout(r, 10));
    for (const conn of this.lean) if (conn.phase === Phase.Idle) conn.destroy();
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const waiters = this.#idle;
        function done(): void {
          clearTimeout(timer);
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          resolve();
        }
        waiters.push(done);
      });
    }
    const cut = this.#active;
    this.server.closeAllConnections();
    for (const conn of this.lean) conn.destroy();
    for (const socket of this.tunnels) socket.destroy();
    await closed;
    return cut;
  }

  #onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (!this.limits.admit(socket)) return;
    this.lean.add(new LeanConnection(socket, this));
  }

  #onRequest(req: EdgeRequest, res: EdgeResponse): void {
    if (this.#refused(req, (a) => answer(res, a))) return;
    const route = this.matcher.match(hostField(req.rawHeaders), req.url ?? "/");
    if (route === undefined) {
      const a = this.#noRoute(req.method ?? "GET", req.rawHeaders, req.url ?? "/");
      answer(res, { ...a, ...(this.closing ? { close: true } : {}) });
      this.#logAnswer(req.method ?? "GET", req.url ?? "/", req.socket.remoteAddress, a);
      return;
    }
    this.#active += 1;
    const down = new NodeDownstream(req, res);
    const log = this.#log;
    if (log === null) {
      const ex = new Exchange(this, route, down);
      down.attach(ex);
      ex.start();
      return;
    }
    const record = new AccessRecord(this, down, log, route.logLabel);
    const ex = new Exchange(record, route, record);
    record.exchange = ex;
    down.attach(ex);
    ex.start();
  }

  /** Not served: behind an answer that closes (dropped), or HTTP/1.1 without Host (`400`). */
  #refused(req: IncomingMessage, send: (a: Answer) => void): boolean {
    if (isClosing(req.socket)) return true;
    const a = missingHost(req);
    if (a === null) return false;
    send(a);
    this.#logAnswer(req.method ?? "GET", req.url ?? "/", req.socket.remoteAddress, a);
    return true;
  }

  /** An answer the listener gave itself (no exchange): one access log line. */
  #logAnswer(method: string | null, url: string | null, client: string | undefined, a: Answer): void {
    this.#log?.write(
      accessLine(Date.now(), {
        listen: this.listenLabel,
        route: null,
        method,
        path: url,
        status: a.status,
        replica: null,
        code: a.code,
        in: 0,
        out: 0,
        ms: 0,
        client: client ?? null,
      }),
    );
  }

  #onUpgrade(req: IncomingMessage, socket: net.Socket, head: Buffer): void {
    if (this.#refused(req, (a) => answerSocket(socket, a))) return;
    const route = this.matcher.match(hostField(req.rawHeaders), req.url ?? "/");
    if (route === undefined || this.closing) {
      answerSocket(
        socket,
        route === undefined
          ? this.#noRoute(req.method ?? "GET", req.rawHeaders, req.url ?? "/")
          : { status: 503, code: ANSWER.edgeClosing, message: "the edge is shutting down", details: {} },
      );
      return;
    }
    openTunnel(this, route, req, socket, head);
  }

  #noRoute(method: string, raw: readonly string[], url: string): Answer {
    const host = hostField(raw) ?? "";
    return {
      status: 404,
      code: ANSWER.noRoute,
      message: `no route on port ${this.port} for ${method} ${host}${url.slice(0, 200)}`,
      details: { port: this.port, routes: this.routes.map((r) => r.label) },
    };
  }

  /** The fast path's timeouts: keep-alive idle time, head time, whole-request time. */
  #sweep(): void {
    const now = Date.now();
    const o = this.options;
    for (const conn of this.lean) {
      const age = now - conn.since;
      if (conn.phase === Phase.Idle && age > o.keepAliveTimeoutMs) conn.destroy();
      else if (conn.phase === Phase.Head && age > o.headersTimeoutMs) {
        this.#headTimeouts += 1;
        const client = conn.remoteAddress;
        conn.timeOut("its request head", o.headersTimeoutMs);
        this.#logAnswer(null, null, client, {
          status: 408,
          code: ANSWER.requestTimeout,
          message: "",
          details: {},
        });
      } else if (conn.phase === Phase.Body && age > o.requestTimeoutMs) {
        recordOf(conn.client)?.timedOut(ANSWER.requestTimeout);
        conn.timeOut("its whole request", o.requestTimeoutMs);
      }
    }
  }

  #routeList(): string {
    return this.routes.map((r) => `route ${r.label}`).join(", ");
  }
}
