/**
 * @module edge/answers
 * The edge's own answers: JSON errors shaped like the control API's,
 * `{ "error": { "code", "message", "details" } }`, with the right status and, for `503`,
 * `Retry-After`. Never a hang, never a bare reset (docs/edge.md lists every code).
 */
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** The codes the edge answers with (besides each component's offline code). */
export const ANSWER = {
  /** 404: no route of this port matches the host and path. */
  noRoute: "NO_ROUTE",
  /** 503: the component has no routable replica (and the hold, if any, ran out). */
  noHealthyReplica: "NO_HEALTHY_REPLICA",
  /** 413: the request body is larger than the route's `max_body`. */
  bodyTooLarge: "BODY_TOO_LARGE",
  /** 502: the replica failed before its response was complete (refused, reset, invalid). */
  upstreamFailed: "UPSTREAM_FAILED",
  /** 504: the replica was silent longer than the route's `timeout`. */
  upstreamTimeout: "UPSTREAM_TIMEOUT",
  /** 503: the edge is shutting down. */
  edgeClosing: "EDGE_CLOSING",
  /** 408: the client was too slow to send its request's head, or the whole request. */
  requestTimeout: "REQUEST_TIMEOUT",
  /** 400: a request the edge will not forward (malformed, or framed or routed ambiguously). */
  badRequest: "BAD_REQUEST",
  /** 431: the request head is larger than 16 KiB. */
  headTooLarge: "HEAD_TOO_LARGE",
  /** 405: `CONNECT` (the edge is a reverse proxy, not a tunnel to anywhere). */
  methodNotAllowed: "METHOD_NOT_ALLOWED",
  /** 417: an `Expect` other than `100-continue`. */
  expectationFailed: "EXPECTATION_FAILED",
} as const;

export interface Answer {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  /** Seconds, sent as `Retry-After`. */
  retryAfterS?: number;
  /** Close the client connection after the answer (body not read, or the edge is closing). */
  close?: boolean;
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The reason phrase of a status the edge answers with. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Error";
}

/** The JSON body of an answer. */
export function answerBody(a: Answer): string {
  return JSON.stringify({ error: { code: a.code, message: a.message, details: a.details } });
}

function headers(a: Answer, length: number): string[] {
  const h = ["Content-Type", "application/json; charset=utf-8", "Content-Length", String(length)];
  if (a.retryAfterS !== undefined) h.push("Retry-After", String(a.retryAfterS));
  if (a.close) h.push("Connection", "close");
  return h;
}

type ClosingSocket = Socket & { edgeClosing?: boolean };

/**
 * Marks a client connection as closing after an answer that says `Connection: close`: node's
 * server goes on parsing requests pipelined behind it, and those must not reach a replica.
 */
export function markClosing(socket: Socket): void {
  (socket as ClosingSocket).edgeClosing = true;
}

/** True once the connection was answered with `close`: its later requests are dropped unanswered. */
export function isClosing(socket: Socket): boolean {
  return (socket as ClosingSocket).edgeClosing === true;
}

/** Answers on a response whose head was not sent yet. */
export function answer(res: ServerResponse, a: Answer): void {
  if (a.close) markClosing(res.req.socket);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = answerBody(a);
  const h = headers(a, Buffer.byteLength(text));
  res.writeHead(a.status, reasonPhrase(a.status), h);
  res.end(text);
}

/** Answers on a raw socket (an upgrade request) and closes it. */
export function answerSocket(socket: Socket, a: Answer): void {
  if (socket.destroyed) return;
  const text = answerBody(a);
  const h = headers({ ...a, close: true }, Buffer.byteLength(text));
  let head = `HTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\n`;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  socket.end(`${head}\r\n${text}`);
}
