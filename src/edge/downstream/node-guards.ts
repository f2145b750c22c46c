/**
 * @module edge/downstream/node-guards
 * What node's HTTP server would otherwise decide alone, decided the edge's way (docs/security.md):
 *
 * - a request its parser (llhttp) refuses — bare LF line endings, obsolete line folding, ambiguous
 *   or invalid framing, a bad request line — gets `400 BAD_REQUEST` as JSON, at once (`431
 *   HEAD_TOO_LARGE` for a head over 16 KiB, `408 REQUEST_TIMEOUT` for node's own head timeout),
 *   and the connection closes;
 * - `CONNECT` gets `405 METHOD_NOT_ALLOWED` (a reverse proxy opens no tunnels to anywhere);
 * - `Expect: 100-continue` is served like any request: its exchange sends `100 Continue` once it
 *   accepted the request — never when its Content-Length is already over `max_body` (node would
 *   send it before the edge could look).
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import type net from "node:net";
import { ANSWER, answerSocket, type Answer } from "../answers.js";
import type { EdgeRequest, EdgeResponse } from "./node-downstream.js";

/** Installs the guards on the listener's node server. */
export function guardNodeServer(server: http.Server<typeof EdgeRequest, typeof EdgeResponse>): void {
  server.on("clientError", onClientError);
  server.on("connect", onConnect);
  server.on("checkContinue", onCheckContinue);
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

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const s = socket as net.Socket & { _httpMessage?: http.ServerResponse | null };
  const busy = s._httpMessage?.headersSent === true;
  if (err.code === "ECONNRESET" || err.code === "EPIPE" || !s.writable || busy) {
    s.destroy();
    return;
  }
  answerSocket(s, clientErrorAnswer(err));
}

function onConnect(req: http.IncomingMessage, socket: Duplex): void {
  answerSocket(socket as net.Socket, {
    status: 405,
    code: ANSWER.methodNotAllowed,
    message: `CONNECT ${String(req.url).slice(0, 100)} refused: the edge is a reverse proxy and opens no tunnels`,
    details: { method: "CONNECT" },
    close: true,
  });
}

function onCheckContinue(this: http.Server, req: http.IncomingMessage, res: http.ServerResponse): void {
  (req as EdgeRequest).expectContinue = true;
  this.emit("request", req, res);
}
