/**
 * @module api/ndjson
 * A long call's answer as a stream of NDJSON lines: first `head` (the plan, warnings), then every
 * event on the bus while `run` goes on, then the line `done` makes of its result — or an `error`
 * line. A client that goes away does not stop `run`.
 */
import { StewardError } from "../errors.js";
import type { EventBus } from "../events/events.js";

export function ndjsonStream<T>(
  bus: EventBus,
  head: readonly unknown[],
  run: () => Promise<T>,
  done: (result: T) => unknown,
): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (line: unknown): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        } catch {
          open = false; // the client went away; the work goes on
        }
      };
      for (const line of head) send(line);
      const unsubscribe = bus.subscribe((event) => send({ type: "event", event }));
      run()
        .then(
          (result) => send(done(result)),
          (err: unknown) => {
            const error = err instanceof StewardError ? err : new StewardError("STW-1999", String(err));
            send({ type: "error", error: error.toJSON().error });
          },
        )
        .finally(() => {
          unsubscribe();
          if (open) controller.close();
          open = false;
        });
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
}

/** The `error` line a followed stream ends with when its work throws. */
export interface ErrorLine {
  type: "error";
  error: { code: string; message: string };
}

/**
 * NDJSON of work that sends its own lines as it goes (a cluster operation, a drain), ended by the
 * line `done` makes of its result — or an `error` line. A client that goes away does not stop it.
 */
export function followStream<L, R>(
  run: (send: (line: L) => void) => Promise<R>,
  done: (result: R) => L,
): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (line: L | ErrorLine): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        } catch {
          open = false; // the client went away; the work goes on
        }
      };
      run(send)
        .then(
          (result) => send(done(result)),
          (err: unknown) => {
            const e = err instanceof StewardError ? err : new StewardError("STW-1999", String(err));
            send({ type: "error", error: e.toJSON().error });
          },
        )
        .finally(() => {
          if (open) controller.close();
          open = false;
        });
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
}
