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
