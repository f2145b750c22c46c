/**
 * @module cli/client
 * The CLI's side of the control API: HTTP+JSON over the daemon's Unix socket. Uses node:http (its
 * `socketPath` option) rather than undici: importing undici costs ~200 ms per CLI call here, node:http
 * ~10 ms.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { DaemonLostError, DaemonUnreachableError, StewardError } from "../errors.js";
import type { StreamLine } from "../api/app.js";

export class ApiError extends StewardError {}

function send(socket: string, method: string, path: string, body?: unknown): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { socketPath: socket, method, path, headers: { "content-type": "application/json" } },
      resolve,
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        // EPIPE/ECONNRESET: a daemon that was closing its socket as the request arrived.
        ["ENOENT", "ECONNREFUSED", "EPIPE", "ECONNRESET"].includes(err.code ?? "")
          ? new DaemonUnreachableError(socket, err)
          : err,
      ),
    );
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = "";
  res.setEncoding("utf8");
  for await (const chunk of res) text += chunk as string;
  return text;
}

function toError(status: number, text: string): ApiError {
  try {
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; details?: Record<string, unknown> };
    };
    return new ApiError(error.code, error.message, { httpStatus: status, details: error.details ?? {} });
  } catch {
    return new ApiError("STW-1999", `daemon answered ${status}: ${text.slice(0, 200)}`, {
      httpStatus: status,
    });
  }
}

/** A plain JSON call; throws the daemon's error as an `ApiError`. */
export async function call<T>(socket: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(socket, method, path, body);
  const text = await readAll(res);
  if ((res.statusCode ?? 500) >= 400) throw toError(res.statusCode ?? 500, text);
  return JSON.parse(text) as T;
}

/** An operation call: `onLine` receives each NDJSON line as it arrives. */
export async function stream(
  socket: string,
  path: string,
  body: unknown,
  onLine: (line: StreamLine) => void,
): Promise<void> {
  const res = await send(socket, "POST", path, body);
  if ((res.statusCode ?? 500) >= 400) throw toError(res.statusCode ?? 500, await readAll(res));
  res.setEncoding("utf8");
  let buffer = "";
  try {
    for await (const chunk of res) {
      buffer += chunk as string;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) onLine(JSON.parse(line) as StreamLine);
      }
    }
  } catch (err) {
    // The connection broke mid-answer: the daemon died (a daemon that answers never cuts it).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ECONNRESET" || (err as Error).message === "aborted") throw new DaemonLostError(socket, err);
    throw err;
  }
}
