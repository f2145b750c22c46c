/**
 * @module edge/downstream/downstream
 * The client side of one exchange, as the exchange sees it. Two implementations: the fast path's
 * own connection (`LeanConnection`, most requests) and node's HTTP server (`NodeDownstream`, for
 * whatever the fast path hands over: HTTP/1.0, chunked request bodies, `Expect`, unusual heads).
 */
import type { Answer } from "../answers.js";

/** What a downstream tells its exchange. */
export interface DownstreamClient {
  /** A piece of the request body (the exchange may keep it: it is not a shared buffer). */
  onClientData(chunk: Buffer): void;
  /** The request body is complete. */
  onClientEnd(): void;
  /** The client connection can take more of the response. */
  onClientDrain(): void;
  /** The client went away before the response was complete. */
  abort(): void;
}

export interface Downstream {
  readonly method: string;
  readonly url: string;
  /** Request fields as sent, flat `[name, value, …]`. */
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string | undefined;
  /** The whole request body has arrived. */
  readonly requestComplete: boolean;
  /** The client connection is gone. */
  readonly gone: boolean;
  /**
   * Starts delivering the request body to the exchange (after the replica connection is up); sends
   * `100 Continue` first when the client waits for it.
   */
  startBody(): void;
  pauseBody(): void;
  resumeBody(): void;
  /**
   * The response head; `headers` is a flat list without hop-by-hop fields.
   * @throws Error when a field is not valid HTTP (the exchange answers 502)
   */
  writeHead(status: number, reason: string, headers: string[]): void;
  /** A piece of the body: a view of a shared buffer, copied if kept. False: wait for `onClientDrain`. */
  write(chunk: Buffer): boolean;
  /** The end of the response, with its last piece (a view, as for `write`). */
  end(chunk: Buffer | null): void;
  /** The edge's own answer (JSON error). */
  answer(a: Answer): void;
  /** Closes the client connection (a response that cannot be completed). */
  destroy(): void;
}
