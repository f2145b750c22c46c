/**
 * @module api/remote
 * The control API as the remote listener serves it (design §8): the same app as on the Unix socket,
 * behind a bearer token. A read-only token may call every `GET` and nothing else: a route changes
 * something exactly when its method is not GET/HEAD (test/api/remote-auth checks each route of the
 * app against this rule). Refused tokens count against the caller's address; past the limit it gets
 * 429 with `Retry-After` without its token being looked at. A streamed answer ends once its token
 * is revoked or expires (api/stream-watch).
 */
import type { Hono } from "hono";
import { FailureLimiter } from "../auth/failure-limiter.js";
import { ReadOnlyTokenError, TokenMissingError, TooManyFailuresError } from "../auth/errors.js";
import type { TokenBook } from "../auth/token-book.js";
import { StewardError } from "../errors.js";
import { isStream, watchStream } from "./stream-watch.js";

/** True for a request that may change something: what a read-only token cannot send. */
export function isMutating(method: string): boolean {
  return method !== "GET" && method !== "HEAD";
}

function refuse(err: StewardError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(err.toJSON()), {
    status: err.httpStatus,
    headers: { "content-type": "application/json", ...headers },
  });
}

type Fetch = (
  request: Request,
  env: { incoming?: { socket?: { remoteAddress?: string } } },
) => Promise<Response>;

/** `app`'s fetch behind token authentication, for the remote listener. */
export function remoteFetch(
  app: Hono,
  tokens: Pick<TokenBook, "authenticate">,
  limiter = new FailureLimiter(),
): Fetch {
  return async (request, env) => {
    const address = env.incoming?.socket?.remoteAddress ?? "unknown";
    const wait = limiter.retryAfterS(address);
    if (wait > 0) return refuse(new TooManyFailuresError(address, wait), { "retry-after": String(wait) });
    const header = request.headers.get("authorization") ?? "";
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    let name: string;
    let readOnly: boolean;
    try {
      if (!m) throw new TokenMissingError();
      ({ name, readOnly } = await tokens.authenticate(m[1]!));
    } catch (err) {
      const error =
        err instanceof StewardError ? err : new StewardError("STW-1999", String(err), { cause: err });
      if (error.httpStatus !== 401) return refuse(error); // e.g. the store unreachable: not the caller's fault
      limiter.fail(address);
      return refuse(error, { "www-authenticate": 'Bearer realm="steward"' });
    }
    const path = new URL(request.url).pathname;
    if (readOnly && isMutating(request.method))
      return refuse(new ReadOnlyTokenError(name, request.method, path));
    const res = await app.fetch(request, env);
    return isStream(res) ? watchStream(res, () => tokens.authenticate(m[1]!)) : res;
  };
}
