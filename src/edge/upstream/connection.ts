/**
 * @module edge/upstream/connection
 * One keep-alive TCP connection from the edge to a replica, carrying one request at a time. It
 * writes the request head (one write), lets its client stream the body, parses the response with
 * `ResponseParser` and hands it on; on completion it goes back to its pool when both sides allow
 * reuse, else it is closed. Failures are classified once, for the retry and ejection rules:
 * `refused`/`connect` (nothing was sent), `reset` (closed or reset before the response completed),
 * `timeout` (silent longer than the route's timeout), `protocol` (an invalid response).
 *
 * Event handlers are module functions shared by every connection (`this` is the socket): nothing
 * is allocated per request but the head string.
 */
import net from "node:net";
import { ResponseParseError, ResponseParser, type ResponseSink } from "./response-parser.js";

export type FailureKind = "refused" | "connect" | "reset" | "timeout" | "protocol";

/** Why an exchange with a replica failed. */
export interface UpstreamFailure {
  kind: FailureKind;
  /** The connection never connected: not a byte of the request reached the replica. */
  nothingSent: boolean;
  /** The connection had carried earlier requests (a reset may be the keep-alive race, not a dead replica). */
  reused: boolean;
  /** The response head had arrived (the client may already have part of the response). */
  responseStarted: boolean;
  /** For operators: `connect ECONNREFUSED 127.0.0.1:4100`, `no response within 60s`… */
  message: string;
}

/** The exchange using a connection. */
export interface UpstreamClient {
  /** The connection is established: the request body may start. */
  onUpstreamConnect(): void;
  onUpstreamHead(status: number, reason: string, headers: string[]): void;
  /** A piece of the response body; `done` when the response is complete. */
  onUpstreamData(chunk: Buffer | null, done: boolean): void;
  /** The connection can take more of the request body. */
  onUpstreamDrain(): void;
  /** The exchange failed; the connection is already detached and closed. */
  onUpstreamFailure(failure: UpstreamFailure): void;
}

/** Where a connection returns when it is done. */
export interface ConnectionOwner {
  readonly host: string;
  readonly port: number;
  /** Takes back a connection that completed a response; `reusable` says whether it may carry another. */
  release(conn: UpstreamConnection, reusable: boolean): void;
  /** The connection closed (while idle or after a failure). */
  closed(conn: UpstreamConnection): void;
}

/** A socket that knows its connection (a field of a fixed shape: monomorphic loads in the handlers). */
class UpstreamSocket extends net.Socket {
  conn!: UpstreamConnection;
}

/**
 * Every upstream socket reads into this one buffer (`onread`): no buffer is allocated per read,
 * and no stream machinery runs. Handlers consume it synchronously; whatever outlives the call is
 * copied (the parser's partial lines, the body pieces written to clients).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** `onread` is a documented option of `new net.Socket()` that @types/node 20 does not declare. */
const SOCKET_OPTIONS = { onread: { buffer: READ_BUFFER, callback: onRead } } as net.SocketConstructorOpts;

export class UpstreamConnection implements ResponseSink {
  readonly socket: net.Socket;
  readonly parser: ResponseParser;
  client: UpstreamClient | null = null;
  connected = false;
  /** Requests completed on this connection. */
  served = 0;
  /** The whole request (head and body) was written. */
  requestSent = false;
  /** When it went idle (ms epoch), for the pool's idle timeout. */
  idleSince = 0;
  /** The socket timeout currently set. */
  timeoutMs = 0;
  #error: Error | undefined;
  #closed = false;

  constructor(readonly owner: ConnectionOwner) {
    this.parser = new ResponseParser(this);
    const socket = new UpstreamSocket(SOCKET_OPTIONS);
    socket.conn = this;
    socket.on("connect", onConnect);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("timeout", onTimeout);
    socket.on("drain", onDrain);
    socket.setNoDelay(true);
    socket.connect({ host: owner.host, port: owner.port });
    this.socket = socket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts an exchange: writes `head` (request line and fields, ending with the empty line).
   * `bodyless` marks the request as fully sent with its head.
   */
  send(
    client: UpstreamClient,
    head: string,
    headRequest: boolean,
    bodyless: boolean,
    timeoutMs: number,
  ): void {
    this.client = client;
    this.requestSent = bodyless;
    this.parser.reset(headRequest);
    if (this.timeoutMs !== timeoutMs) {
      this.timeoutMs = timeoutMs;
      this.socket.setTimeout(timeoutMs);
    }
    this.socket.write(head, "latin1");
  }

  /** Writes a piece of the request body; false when the caller should wait for `onUpstreamDrain`. */
  write(chunk: Buffer | string): boolean {
    return this.socket.write(chunk);
  }

  /** Closes the connection; a client still attached is detached without being told. */
  destroy(): void {
    this.client = null;
    this.socket.destroy();
  }

  // ResponseSink: the parser calls these while `execute()` runs.
  onHead(status: number, reason: string, headers: string[]): void {
    this.client?.onUpstreamHead(status, reason, headers);
  }

  onData(chunk: Buffer | null, done: boolean): void {
    this.client?.onUpstreamData(chunk, done);
  }

  /** After a complete response: back to the pool or closed. */
  complete(extraBytes: number): void {
    this.client = null;
    this.served += 1;
    const reusable = extraBytes === 0 && this.parser.keepAlive && this.requestSent && !this.#closed;
    this.owner.release(this, reusable);
  }

  fail(kind: FailureKind, message: string): void {
    const client = this.client;
    this.client = null;
    const failure: UpstreamFailure = {
      kind,
      nothingSent: !this.connected,
      reused: this.served > 0,
      responseStarted: !this.parser.awaitingHead && !this.parser.done,
      message,
    };
    this.socket.destroy();
    client?.onUpstreamFailure(failure);
  }

  markClosed(): void {
    this.#closed = true;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  set error(err: Error | undefined) {
    this.#error ??= err;
  }
}

function conn(socket: net.Socket): UpstreamConnection {
  return (socket as UpstreamSocket).conn;
}

function onConnect(this: net.Socket): void {
  const c = conn(this);
  c.connected = true;
  c.client?.onUpstreamConnect();
}

function onRead(this: net.Socket, nread: number, buf: Buffer): boolean {
  const c = conn(this);
  if (c.client === null) {
    // Bytes from a replica that owes no response: the connection cannot be trusted any more.
    c.destroy();
    return false;
  }
  let extra: number;
  try {
    extra = c.parser.execute(buf.subarray(0, nread));
  } catch (err) {
    c.fail("protocol", err instanceof ResponseParseError ? err.message : String(err));
    return false;
  }
  if (c.parser.done && c.client !== null) c.complete(extra);
  return true;
}

function onEnd(this: net.Socket): void {
  const c = conn(this);
  if (c.client === null) return;
  if (c.parser.untilClose) {
    c.parser.eof();
    c.markClosed();
    if (c.client !== null) c.complete(0);
    return;
  }
  c.fail(
    "reset",
    `the replica closed the connection ${c.parser.awaitingHead ? "before responding" : "mid-response"}`,
  );
}

function onError(this: net.Socket, err: NodeJS.ErrnoException): void {
  const c = conn(this);
  c.error = err;
  if (c.client === null) return;
  if (!c.connected) {
    c.fail(err.code === "ECONNREFUSED" ? "refused" : "connect", err.message);
  } else {
    c.fail("reset", err.message);
  }
}

function onClose(this: net.Socket): void {
  const c = conn(this);
  c.markClosed();
  if (c.client !== null) {
    const err = c.error;
    if (!c.connected) c.fail("connect", err?.message ?? "connection closed before it was established");
    else c.fail("reset", err?.message ?? "the replica closed the connection");
  }
  c.owner.closed(c);
}

function onTimeout(this: net.Socket): void {
  const c = conn(this);
  if (c.client === null) {
    c.destroy();
    return;
  }
  c.fail("timeout", `no answer from the replica within ${c.timeoutMs} ms`);
}

function onDrain(this: net.Socket): void {
  conn(this).client?.onUpstreamDrain();
}
