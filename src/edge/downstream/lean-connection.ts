/**
 * @module edge/downstream/lean-connection
 * The edge's fast path for one client connection: it reads request heads itself (the strict subset
 * of `request-parser`), serves one request at a time (a pipelined next request waits, read but not
 * parsed, until the response before it is complete), and writes each response head and body piece
 * with a single write. Node's request and response objects are never built: that is most of the
 * CPU a proxied request costs through node's HTTP server (docs/edge.md, "Performance").
 *
 * Anything outside the subset — HTTP/1.0, chunked request bodies, `Expect`, upgrades, unusual
 * heads — is handed, at a request boundary and with the bytes already read, to node's HTTP server,
 * which serves the rest of the connection.
 *
 * Timeouts (checked by the listener's sweep): keep-alive idle time, time to send a head, time to
 * send a whole request.
 */
import type net from "node:net";
import { ANSWER, answerBody, reasonPhrase, type Answer } from "../answers.js";
import type { Downstream, DownstreamClient } from "./downstream.js";
import { FALLBACK, INCOMPLETE, parseRequestHead } from "./request-parser.js";

/** What a fast-path connection needs from its listener. */
export interface LeanHost {
  readonly closing: boolean;
  readonly keepAliveTimeoutMs: number;
  /** Starts the exchange of the request `conn` just parsed (or answers it). */
  request(conn: LeanConnection): void;
  /** Hands the socket to node's HTTP server, with the bytes read and not yet used. */
  handOver(conn: LeanConnection, bytes: Buffer | null): void;
  /** The connection closed. */
  closed(conn: LeanConnection): void;
}

export const enum Phase {
  /** Between requests. */
  Idle,
  /** Part of a head has arrived. */
  Head,
  /** The head was parsed; its body is arriving. */
  Body,
  /** The request is complete; its response is not. */
  Waiting,
  /** Closing or closed. */
  Closed,
}

/** Heads longer than node's default `maxHeaderSize` go to node, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Body bytes kept while the replica connection is being established. */
const MAX_PENDING_BODY = 64 * 1024;

let dateText = "";
let dateSecond = 0;
/** The `Date` field value, computed at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = now - (now % 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second).toUTCString();
  }
  return dateText;
}

/** A socket that knows its connection. */
type LeanSocket = net.Socket & { lean: LeanConnection };

export class LeanConnection implements Downstream {
  client: DownstreamClient | null = null;
  phase = Phase.Idle;
  /** Responses completed on this connection (0: a fresh connection, its first request may be on its way). */
  served = 0;
  /** When the current phase began (ms epoch), for the timeouts. */
  since = Date.now();
  method = "";
  url = "";
  rawHeaders: string[] = [];
  /** The client did not ask to close. */
  keepAlive = true;
  #buf: Buffer | null = null;
  #remaining = 0;
  #pending: Buffer[] | null = null;
  #pendingBytes = 0;
  #bodyStarted = false;
  #requestComplete = true;
  #head: string | null = null;
  #chunked = false;
  /** The response has started (head or answer written). */
  responding = false;
  #closeAfter = false;
  #parsing = false;

  constructor(
    readonly socket: net.Socket,
    readonly host: LeanHost,
  ) {
    (socket as LeanSocket).lean = this;
    socket.setNoDelay(true);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    socket.on("error", onError);
    socket.on("drain", onDrain);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get requestComplete(): boolean {
    return this.#requestComplete;
  }

  get gone(): boolean {
    return this.socket.destroyed;
  }

  // Reading.
  data(chunk: Buffer): void {
    switch (this.phase) {
      case Phase.Body:
        this.#body(chunk);
        return;
      case Phase.Idle:
      case Phase.Head:
        this.#append(chunk);
        this.#parse();
        return;
      default:
        // A pipelined request while a response is pending: keep it, read no more for now.
        this.#append(chunk);
        this.socket.pause();
    }
  }

  /** The client closed its side: like node's HTTP server, abandon the request in progress and close. */
  ended(): void {
    this.phase = Phase.Closed;
    const client = this.client;
    this.client = null;
    client?.abort();
    this.socket.end();
  }

  #append(chunk: Buffer): void {
    this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  #parse(): void {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      while (this.#buf !== null && (this.phase === Phase.Idle || this.phase === Phase.Head)) {
        const r = parseRequestHead(this.#buf, MAX_HEAD_BYTES);
        if (r === INCOMPLETE) {
          if (this.phase === Phase.Idle) {
            this.phase = Phase.Head;
            this.since = Date.now();
          }
          return;
        }
        if (r === FALLBACK) {
          const bytes = this.#buf;
          this.#buf = null;
          this.phase = Phase.Closed;
          this.#detach();
          this.host.handOver(this, bytes);
          return;
        }
        const rest = r.headBytes < this.#buf.length ? this.#buf.subarray(r.headBytes) : null;
        this.#buf = null;
        this.method = r.method;
        this.url = r.url;
        this.rawHeaders = r.rawHeaders;
        this.keepAlive = r.keepAlive;
        this.#closeAfter = !r.keepAlive;
        this.#remaining = r.contentLength;
        this.#requestComplete = r.contentLength === 0;
        this.#bodyStarted = false;
        this.#pending = null;
        this.#pendingBytes = 0;
        this.#head = null;
        this.#chunked = false;
        this.responding = false;
        this.phase = r.contentLength > 0 ? Phase.Body : Phase.Waiting;
        this.since = Date.now();
        this.host.request(this);
        if (rest !== null) {
          if (this.phase === Phase.Body) this.#body(rest);
          else this.#append(rest);
        }
        if (this.phase === Phase.Waiting && this.#buf !== null) this.socket.pause();
      }
    } finally {
      this.#parsing = false;
    }
  }

  #body(chunk: Buffer): void {
    const take = Math.min(this.#remaining, chunk.length);
    this.#remaining -= take;
    if (take > 0) {
      const piece = take === chunk.length ? chunk : chunk.subarray(0, take);
      if (this.#bodyStarted) {
        this.client?.onClientData(piece);
      } else {
        (this.#pending ??= []).push(piece);
        this.#pendingBytes += take;
        if (this.#pendingBytes > MAX_PENDING_BODY) this.socket.pause();
      }
    }
    if (this.#remaining === 0 && this.phase === Phase.Body) {
      this.#requestComplete = true;
      this.phase = Phase.Waiting;
      if (this.#bodyStarted) this.client?.onClientEnd();
    }
    if (take < chunk.length) {
      this.#append(chunk.subarray(take));
      this.socket.pause();
    }
  }

  // Downstream: the request body.
  startBody(): void {
    this.#bodyStarted = true;
    const pending = this.#pending;
    this.#pending = null;
    this.#pendingBytes = 0;
    if (pending !== null) {
      for (const piece of pending) {
        if (this.client === null) return;
        this.client.onClientData(piece);
      }
    }
    if (this.#requestComplete) this.client?.onClientEnd();
    else if (this.phase === Phase.Body && this.socket.isPaused()) this.socket.resume();
  }

  pauseBody(): void {
    if (this.phase === Phase.Body) this.socket.pause();
  }

  resumeBody(): void {
    if (this.phase === Phase.Body && this.socket.isPaused()) this.socket.resume();
  }

  // Downstream: the response.
  writeHead(status: number, reason: string, headers: string[]): void {
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    let hasLength = false;
    let hasDate = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === "date") hasDate = true;
          break;
        case 10:
          if (name.toLowerCase() === "connection") {
            if (value.toLowerCase() === "close") this.#closeAfter = true;
            continue;
          }
          break;
        case 14:
          if (name.toLowerCase() === "content-length") hasLength = true;
          break;
        case 17:
          // The replica's codings besides chunked (`gzip, chunked`): the body is chunked here.
          if (name.toLowerCase() === "transfer-encoding") this.#chunked = true;
          break;
      }
      head += `${name}: ${value}\r\n`;
    }
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    const bodyless = this.method === "HEAD" || status === 204 || status === 304 || status < 200;
    if (!bodyless && !hasLength && !this.#chunked) {
      head += "Transfer-Encoding: chunked\r\n";
      this.#chunked = true;
    }
    head += this.#connectionFields();
    this.#head = `${head}\r\n`;
    this.responding = true;
  }

  write(chunk: Buffer): boolean {
    return this.#send(chunk, false);
  }

  end(chunk: Buffer | null): void {
    this.#send(chunk, true);
    this.#responseDone();
  }

  answer(a: Answer): void {
    if (a.close) this.#closeAfter = true;
    const body = answerBody(a);
    let head = `HTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\nContent-Type: application/json; charset=utf-8\r\n`;
    head += `Content-Length: ${Buffer.byteLength(body)}\r\nDate: ${httpDate()}\r\n`;
    if (a.retryAfterS !== undefined) head += `Retry-After: ${a.retryAfterS}\r\n`;
    head += this.#connectionFields();
    this.responding = true;
    this.socket.write(`${head}\r\n${this.method === "HEAD" ? "" : body}`);
    this.#responseDone();
  }

  destroy(): void {
    this.phase = Phase.Closed;
    this.socket.destroy();
  }

  /** Answers `408` (a head or a request too slow to arrive) and closes. */
  timeOut(what: string, ms: number): void {
    const client = this.client;
    this.client = null;
    client?.abort();
    if (this.responding || this.socket.destroyed) {
      this.destroy();
      return;
    }
    this.answer({
      status: 408,
      code: ANSWER.requestTimeout,
      message: `the client did not send ${what} within ${ms} ms`,
      details: {},
      close: true,
    });
  }

  #connectionFields(): string {
    if (this.#closeAfter || this.host.closing || !this.#requestComplete) {
      this.#closeAfter = true;
      return "Connection: close\r\n";
    }
    return `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.host.keepAliveTimeoutMs / 1000)}\r\n`;
  }

  /** Writes the pending head (if any) and `chunk` (framed when chunked) with one write. */
  #send(chunk: Buffer | null, last: boolean): boolean {
    const head = this.#head;
    this.#head = null;
    const dataLen = chunk === null ? 0 : chunk.length;
    let pre = "";
    let post = "";
    if (this.#chunked) {
      if (dataLen > 0) {
        pre = `${dataLen.toString(16)}\r\n`;
        post = "\r\n";
      }
      if (last) post += "0\r\n\r\n";
    }
    const headLen = head === null ? 0 : head.length;
    const total = headLen + pre.length + dataLen + post.length;
    if (total === 0) return true;
    // One buffer, one write; the body piece is copied out of the shared read buffer here.
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    if (head !== null) at += out.write(head, 0, "latin1");
    if (pre.length > 0) at += out.write(pre, at, "latin1");
    if (chunk !== null && dataLen > 0) at += chunk.copy(out, at);
    if (post.length > 0) out.write(post, at, "latin1");
    return this.socket.write(out);
  }

  #responseDone(): void {
    this.client = null;
    this.responding = false;
    this.served += 1;
    if (this.#closeAfter || this.host.closing || !this.#requestComplete || this.phase === Phase.Closed) {
      this.phase = Phase.Closed;
      this.socket.end();
      return;
    }
    this.phase = Phase.Idle;
    this.since = Date.now();
    if (this.#buf !== null) {
      this.socket.resume();
      this.#parse();
    } else if (this.socket.isPaused()) {
      this.socket.resume();
    }
  }

  #detach(): void {
    const s = this.socket;
    s.removeListener("data", onData);
    s.removeListener("end", onEnd);
    s.removeListener("close", onClose);
    s.removeListener("error", onError);
    s.removeListener("drain", onDrain);
  }
}

function onData(this: net.Socket, chunk: Buffer): void {
  (this as LeanSocket).lean.data(chunk);
}

function onEnd(this: net.Socket): void {
  (this as LeanSocket).lean.ended();
}

function onClose(this: net.Socket): void {
  const c = (this as LeanSocket).lean;
  c.phase = Phase.Closed;
  const client = c.client;
  c.client = null;
  client?.abort();
  c.host.closed(c);
}

function onError(this: net.Socket): void {
  this.destroy();
}

function onDrain(this: net.Socket): void {
  (this as LeanSocket).lean.client?.onClientDrain();
}
