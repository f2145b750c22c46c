/**
 * @module edge/exchange
 * One proxied request, from the client's request to the end of the replica's response:
 * pick a replica → send the head (one write) → stream the body → stream the response back.
 *
 * Rules (docs/edge.md):
 * - offline component → `503` with its offline code; no routable replica → hold (when the route
 *   holds) or `503 NO_HEALTHY_REPLICA`;
 * - a refused connection, or a fresh one reset before the response, takes the replica out at once
 *   (passive ejection); the request goes to another replica when that is safe: nothing was sent,
 *   or the method is idempotent and the request has no body; at most 3 attempts;
 * - otherwise `502 UPSTREAM_FAILED`, or `504 UPSTREAM_TIMEOUT` after the route's `timeout` of
 *   silence; once the response has started, a failure can only close the client connection;
 * - a body larger than the route's `max_body` → `413 BODY_TOO_LARGE` and the connection closes
 *   (by its Content-Length: at once, before any `100 Continue`);
 * - a request `buildRequestHead` refuses (ambiguous framing or routing) → `400 BAD_REQUEST`, closed;
 * - the response head is passed on with the first body byte (or the end): a replica that fails
 *   before that still gets its client a `502`.
 *
 * The client side is a `Downstream` (the fast path's connection, or node's request and response);
 * the replica side an `UpstreamConnection`. The hot path allocates this object and the head string.
 */
import { ANSWER, type Answer } from "./answers.js";
import type { Downstream, DownstreamClient } from "./downstream/downstream.js";
import { buildRequestHead, Framing, type BodyInfo } from "./headers.js";
import type { EdgeRoute, HeldRequest } from "./route.js";
import type { RoutedReplica } from "./routed-replica.js";
import type { RoutingTable } from "./routing-table.js";
import { ResponseParseError } from "./upstream/response-parser.js";
import type { UpstreamClient, UpstreamConnection, UpstreamFailure } from "./upstream/connection.js";

/** What an exchange needs from the listener that accepted it. */
export interface ExchangeHost {
  readonly table: RoutingTable;
  /** The edge is shutting down: responses carry `Connection: close`, nothing is held. */
  readonly closing: boolean;
  exchangeDone(): void;
}

/** RFC 9110 §9.2.2. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
/** Attempts per request (first try and retries on other replicas). */
export const MAX_ATTEMPTS = 3;

export class Exchange implements UpstreamClient, DownstreamClient, BodyInfo, HeldRequest {
  refusal: string | null = null;
  framing: Framing = Framing.None;
  contentLength = -1;
  hostMissing = false;
  heldUntil = 0;
  held = false;
  replica: RoutedReplica | null = null;
  conn: UpstreamConnection | null = null;
  head: string;
  attempts = 0;
  bodyStarted = false;
  bodyBytes = 0;
  /** The response head was written to the client. */
  responded = false;
  finished = false;
  /** The replica's response head, until its first body byte or its end is passed on. */
  #status = 0;
  #reason = "";
  #headers: string[] | null = null;

  constructor(
    readonly host: ExchangeHost,
    readonly route: EdgeRoute,
    readonly down: Downstream,
  ) {
    this.head = buildRequestHead(down.method, down.url, down.rawHeaders, down.remoteAddress, false, this);
  }

  /** Checks the body size, then dispatches. */
  start(): void {
    if (this.refusal !== null) {
      this.#reply({
        status: 400,
        code: ANSWER.badRequest,
        message: `request refused: ${this.refusal}`,
        details: { route: this.route.label },
        close: true,
      });
      return;
    }
    if (this.contentLength > this.route.spec.maxBodyBytes) {
      this.#reply(this.#tooLarge());
      return;
    }
    this.dispatch();
  }

  /** Sends the request to a routable replica, or holds it, or answers `503`. */
  dispatch(): void {
    if (this.finished) return;
    const component = this.route.component;
    if (component.offline !== null) {
      this.#reply({
        status: 503,
        code: component.offline.code,
        message: `${component.name} is offline; try again later`,
        details: { component: component.name, route: this.route.label },
        retryAfterS: component.offline.retryAfterS,
      });
      return;
    }
    const r = this.route.pick();
    if (r === undefined) {
      const hold = this.route.hold;
      if (hold !== null && !this.host.closing && hold.add(this)) return;
      this.#noHealthy(
        hold !== null && !this.host.closing ? `the hold queue is full (${hold.maxQueued})` : null,
      );
      return;
    }
    this.attempts += 1;
    this.replica = r;
    r.begin();
    const conn = r.pool.acquire();
    this.conn = conn;
    const head = this.hostMissing ? `${this.head}Host: ${r.hostPort}\r\n\r\n` : this.head;
    const bodyless = this.framing === Framing.None;
    conn.send(this, head, this.down.method === "HEAD", bodyless, this.route.spec.timeoutMs);
    if (!bodyless && conn.connected) this.onUpstreamConnect();
  }

  holdExpired(): void {
    const hold = this.route.hold;
    this.#noHealthy(hold ? `no replica became routable within ${hold.timeoutMs} ms` : null);
  }

  refuseClosing(): void {
    this.#reply({
      status: 503,
      code: ANSWER.edgeClosing,
      message: "the edge is shutting down",
      details: { route: this.route.label },
      retryAfterS: 1,
      close: true,
    });
  }

  // UpstreamClient
  onUpstreamConnect(): void {
    if (this.framing === Framing.None || this.bodyStarted || this.finished) return;
    this.bodyStarted = true;
    this.down.startBody();
  }

  onUpstreamHead(status: number, reason: string, headers: string[]): void {
    this.#status = status;
    this.#reason = reason;
    this.#headers = headers;
  }

  /** Passes the response head on (with the first body byte, or the end of the response). */
  #writeHead(headers: string[]): void {
    this.#headers = null;
    if (this.host.closing) headers.push("Connection", "close");
    try {
      this.down.writeHead(this.#status, this.#reason, headers);
    } catch (err) {
      throw new ResponseParseError((err as Error).message);
    }
    this.responded = true;
  }

  onUpstreamData(chunk: Buffer | null, done: boolean): void {
    if (this.#headers !== null) this.#writeHead(this.#headers);
    if (done) {
      this.down.end(chunk);
      this.#finish();
      return;
    }
    if (!this.down.write(chunk as Buffer)) this.conn?.socket.pause();
  }

  onUpstreamDrain(): void {
    this.down.resumeBody();
  }

  onUpstreamFailure(f: UpstreamFailure): void {
    const r = this.replica;
    this.conn = null;
    if (this.finished) return;
    if (r !== null) {
      this.replica = null;
      r.end();
      const eject = f.kind === "refused" || f.kind === "connect" || (f.kind === "reset" && !f.reused);
      if (eject) {
        this.host.table.eject(
          r,
          f.kind === "refused" ? "connection refused" : `connection failed: ${f.message}`,
        );
      }
    }
    if (this.responded) {
      // The client has part of the response: closing its connection is the only honest signal left.
      this.down.destroy();
      this.#finish();
      return;
    }
    // A replica that sent a response head has handled the request: never retried.
    const retryable = f.kind !== "timeout" && f.kind !== "protocol" && !f.responseStarted;
    const safe = f.nothingSent || (this.framing === Framing.None && IDEMPOTENT.has(this.down.method));
    if (retryable && safe && this.attempts < MAX_ATTEMPTS && !this.down.gone) {
      this.dispatch();
      return;
    }
    const where = r ? `${r.component}[${r.index}] (${r.hostPort})` : this.route.component.name;
    const timeout = f.kind === "timeout";
    this.#reply({
      status: timeout ? 504 : 502,
      code: timeout ? ANSWER.upstreamTimeout : ANSWER.upstreamFailed,
      message: timeout
        ? `${where} did not answer within ${this.route.spec.timeoutMs} ms`
        : `${where} failed before its response was complete: ${f.message}`,
      details: {
        component: this.route.component.name,
        replica: r?.index ?? null,
        route: this.route.label,
        attempts: this.attempts,
        retried: false,
      },
    });
  }

  // DownstreamClient
  onClientData(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.route.spec.maxBodyBytes) {
      this.#bodyTooLarge();
      return;
    }
    const conn = this.conn;
    if (conn === null || this.finished || chunk.length === 0) return;
    let ok: boolean;
    if (this.framing === Framing.Chunked) {
      const socket = conn.socket;
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
      socket.write(chunk);
      ok = socket.write("\r\n", "latin1");
      socket.uncork();
    } else {
      ok = conn.write(chunk);
    }
    if (!ok) this.down.pauseBody();
  }

  onClientEnd(): void {
    const conn = this.conn;
    if (conn === null || this.finished || conn.requestSent) return;
    if (this.framing === Framing.Chunked) conn.write("0\r\n\r\n");
    conn.requestSent = true;
  }

  onClientDrain(): void {
    this.conn?.socket.resume();
  }

  /** The client went away before the response was complete. */
  abort(): void {
    if (this.finished) return;
    if (this.held) this.route.hold?.cancel(this);
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
    this.#finish();
  }

  /** The request body passed `max_body`. */
  #bodyTooLarge(): void {
    if (this.finished) return;
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
    if (this.replica !== null) {
      this.replica.end();
      this.replica = null;
    }
    if (this.responded) {
      this.down.destroy();
      this.#finish();
    } else {
      this.#reply(this.#tooLarge());
    }
  }

  #tooLarge(): Answer {
    const max = this.route.spec.maxBodyBytes;
    return {
      status: 413,
      code: ANSWER.bodyTooLarge,
      message: `the request body is larger than this route's limit of ${max} bytes (max_body)`,
      details: { route: this.route.label, maxBodyBytes: max },
      close: true,
    };
  }

  #noHealthy(why: string | null): void {
    const c = this.route.component;
    const replicas = c.replicas.size;
    this.#reply({
      status: 503,
      code: ANSWER.noHealthyReplica,
      message: `no healthy replica of ${c.name}${why ? `: ${why}` : ` (${replicas} registered, none routable)`}`,
      details: { component: c.name, route: this.route.label, replicas },
      retryAfterS: c.noHealthyRetryAfterS,
    });
  }

  #reply(a: Answer): void {
    if (this.finished) return;
    // Close the connection when the edge is closing or the request body was not read to its end.
    if (this.host.closing || (this.framing !== Framing.None && !this.down.requestComplete)) a.close = true;
    this.down.answer(a);
    this.#finish();
  }

  #finish(): void {
    if (this.finished) return;
    this.finished = true;
    const r = this.replica;
    if (r !== null) {
      this.replica = null;
      r.end();
    }
    this.conn = null;
    this.host.exchangeDone();
  }
}
