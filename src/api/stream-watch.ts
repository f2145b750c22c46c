/**
 * @module api/stream-watch
 * A streamed answer on the remote listener outlives the check made when it began: its token is
 * checked again every second, and once revoked or expired the stream ends with an NDJSON `error`
 * line carrying the 401's code (`STW-6003`, `STW-6004`). The operation itself goes on: it was
 * allowed when it was asked for; only what the token may still see stops.
 */
import { StewardError } from "../errors.js";

/** How often an open stream's token is checked again. */
export const STREAM_RECHECK_MS = 1000;

/** True for an answer that streams (NDJSON, server-sent events). */
export function isStream(res: Response): boolean {
  const type = res.headers.get("content-type") ?? "";
  return res.body !== null && (type.includes("ndjson") || type.includes("event-stream"));
}

/** `res` with its body cut off once `check` throws. */
export function watchStream(
  res: Response,
  check: () => Promise<unknown>,
  everyMs = STREAM_RECHECK_MS,
): Response {
  const reader = res.body!.getReader();
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, last?: string): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    if (last !== undefined) controller.enqueue(new TextEncoder().encode(last));
    controller.close();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => {
        check().catch((err: unknown) => {
          if (ended) return;
          const error = err instanceof StewardError ? err : new StewardError("STW-1999", String(err));
          end(controller, `${JSON.stringify({ type: "error", error: error.toJSON().error })}\n`);
          void reader.cancel(error.message).catch(() => undefined);
        });
      }, everyMs);
    },
    async pull(controller) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (ended) return;
      if (done) end(controller);
      else controller.enqueue(value);
    },
    cancel(reason) {
      ended = true;
      clearInterval(timer);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}
