/**
 * @module edge/downstream/node-guards
 * What node's HTTP server would otherwise decide alone, decided the edge's way (docs/security.md):
 *
 * - a request its parser (llhttp) refuses — bare LF line endings, obsolete line folding, ambiguous
 *   or invalid framing, a bad request line — gets `400 BAD_REQUEST` as JSON, at once (`431
 *   HEAD_TOO_LARGE` for a head over 16 KiB, `408 REQUEST_TIMEOUT` for node's own head timeout),
 *   and the connection closes;
 * - an HTTP/1.1 request without Host gets `400 BAD_REQUEST` as JSON (RFC 9112 §3.2; node's own
 *   check, `requireHostHeader`, answers an empty 400 and misses upgrade requests — the listener
 *   asks `missingHost` instead);
 * - an `Expect` other than `100-continue` gets `417 EXPECTATION_FAILED` (node's would be an empty 417);
 * - `CONNECT` gets `405 METHOD_NOT_ALLOWED` (a reverse proxy opens no tunnels to anywhere);
 * - `Expect: 100-continue` is served like any request: its exchange sends `100 Continue` once it
 *   accepted the request — never when its Content-Length is already over `max_body` (node would
 *   send it before the edge could look).
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import type net from "node:net";
import { ANSWER, answer, answerSocket, isClosing, markClosing, type Answer } from "../answers.js";
import type { EdgeRequest, EdgeResponse } from "./node-downstream.js";

/** Told of each refusal the guards answer (for the access log): the request's method and target when known. */
export type RefusalListener = (a: Answer, socket: net.Socket, req: http.IncomingMessage | null) => void;

/** Installs the guards on the listener's node server. */
export function guardNodeServer(
  server: http.Server<typeof EdgeRequest, typeof EdgeResponse>,
  refused: RefusalListener,
): void {
  server.prependListener("request", onRequest);
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const a = onClientError(err, socket);
    if (a !== null) refused(a, socket as net.Socket, null);
  });
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) =>
    refused(onConnect(req, socket), socket as net.Socket, req),
  );
  server.on("checkContinue", onCheckContinue);
  server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) =>
    refused(onCheckExpectation(req, res), req.socket, req),
  );
}

/** Node's HTTP server options the guards need: the Host check is the listener's (`missingHost`). */
export const GUARDED_SERVER_OPTIONS = { requireHostHeader: false } as const;

/** `400 BAD_REQUEST` for an HTTP/1.1 request without Host (RFC 9112 §3.2), or null. */
export function missingHost(req: http.IncomingMessage): Answer | null {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1 || req.headers.host !== undefined) return null;
  return {
    status: 400,
    code: ANSWER.badRequest,
    message: "an HTTP/1.1 request must have a Host field (RFC 9112 §3.2)",
    details: {},
    close: true,
  };
}

/** What node's parser reported, as the client's answer. */
export function clientErrorAnswer(err: NodeJS.ErrnoException & { reason?: string }): Answer {
  if (err.code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      code: ANSWER.headTooLarge,
      message: "the request head is larger than 16384 bytes",
      details: {},
      close: true,
    };
  if (err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW")
    return {
      status: 413,
      code: ANSWER.bodyTooLarge,
      message: "the request's chunk extensions are too large",
      details: {},
      close: true,
    };
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return {
      status: 408,
      code: ANSWER.requestTimeout,
      message: "the client did not send its request in time",
      details: {},
      close: true,
    };
  return {
    status: 400,
    code: ANSWER.badRequest,
    message: `malformed request: ${err.reason ?? err.message}`,
    details: { parser: err.code ?? null },
    close: true,
  };
}

/** A socket node's server serves: its latest response, and whether the edge already refused. */
type ServedSocket = net.Socket & { edgeLast?: http.ServerResponse };

/** Answers what node's parser reported; returns the answer (null: the connection was just closed). */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): Answer | null {
  const s = socket as ServedSocket;
  if (err.code === "ECONNRESET" || err.code === "EPIPE" || !s.writable) {
    s.destroy();
    return null;
  }
  if (isClosing(s)) return null; // the parser stays failed: later bytes report again
  markClosing(s);
  const a = clientErrorAnswer(err);
  const last = s.edgeLast;
  if (last === undefined || last.writableFinished) {
    answerSocket(s, a);
    return a;
  }
  if (!last.req.complete) {
    // The bad bytes are in the body of the latest request: the refusal is its answer, written in
    // its turn after the answers before it (node queues a pipelined request's response).
    if (last.headersSent) s.destroy();
    else answer(last, a);
    return a;
  }
  // A pipelined bad request behind complete ones still being answered: their answers first, then
  // the refusal (answering now would give an earlier request the refusal, or cut its response).
  last.once("finish", () => {
    if (s.writable) answerSocket(s, a);
  });
  last.once("close", () => {
    if (!last.writableFinished) s.destroy();
  });
  return a;
}

/** Remembers each socket's latest response (node answers pipelined requests in order). */
function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  (req.socket as ServedSocket).edgeLast = res;
}

function onConnect(req: http.IncomingMessage, socket: Duplex): Answer {
  const a: Answer = {
    status: 405,
    code: ANSWER.methodNotAllowed,
    message: `CONNECT ${String(req.url).slice(0, 100)} refused: the edge is a reverse proxy and opens no tunnels`,
    details: { method: "CONNECT" },
    close: true,
  };
  answerSocket(socket as net.Socket, a);
  return a;
}

function onCheckContinue(this: http.Server, req: http.IncomingMessage, res: http.ServerResponse): void {
  (req as EdgeRequest).expectContinue = true;
  this.emit("request", req, res);
}

function onCheckExpectation(req: http.IncomingMessage, res: http.ServerResponse): Answer {
  const expect = String(req.headers.expect).slice(0, 100);
  const a: Answer = {
    status: 417,
    code: ANSWER.expectationFailed,
    message: `Expect \`${expect}\` is not supported: the edge only knows 100-continue`,
    details: { expect },
    close: true,
  };
  answer(res, a);
  return a;
}
