/**
 * @module api/app
 * The control API (Hono): HTTP+JSON, served on the daemon's Unix socket. Operations answer with a
 * stream of NDJSON lines — `{"type":"event",…}` for progress, then one `{"type":"result",…}` — so
 * the CLI can show live progress. Errors render as `{ error: { code, message, details } }`.
 */
import { Hono } from "hono";
import { BadRequestError, RecoveringError, StewardError } from "../errors.js";
import type { AnyStewardEvent, EventBus } from "../events/events.js";
import type { OperationResult } from "../lifecycle/supervisor.js";
import type { StatusDocument } from "../daemon/status.js";

export type OperationName = "up" | "start" | "stop" | "restart" | "down";

/** What the API needs from the daemon. */
export interface DaemonControl {
  bus: EventBus;
  /** Throws when the daemon cannot take a mutating call now (`RecoveringError`: 503 + Retry-After). */
  admit(operation: OperationName): void;
  status(): StatusDocument;
  /** Digest of the topology file as the daemon loaded it. */
  topologyDigest: string;
  /** The topology file the daemon loaded. */
  topologyFile: string;
  /** Throws `UnknownComponentError` for a name the topology does not declare. */
  resolve(components: string[]): string[];
  run(operation: OperationName, components: string[]): Promise<OperationResult>;
  /** `steward daemon restart`: exit without stopping replicas; the next daemon re-adopts them. */
  handover(): Promise<{ pid: number; instance: number }>;
}

/** The body of an operation request. */
export interface OperationBody {
  components?: string[];
  /** The CLI's digest of the topology file; a mismatch earns a warning line. */
  topologyDigest?: string;
}

/** Checked by hand: the daemon stays free of the schema library (see topology/load-isolated). */
function parseOperationBody(json: unknown): OperationBody {
  const expected = 'expected {"components": ["name", …]}';
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new BadRequestError(
      `bad request body: ${expected}, got ${Array.isArray(json) ? "an array" : typeof json}`,
    );
  const body = json as Record<string, unknown>;
  for (const key of Object.keys(body))
    if (key !== "components" && key !== "topologyDigest")
      throw new BadRequestError(`bad request body: unknown key \`${key}\`; ${expected}`, { key });
  const { components, topologyDigest } = body;
  if (
    components !== undefined &&
    !(Array.isArray(components) && components.every((c) => typeof c === "string" && c))
  )
    throw new BadRequestError(
      `bad request body: \`components\` must be a list of component names; ${expected}`,
    );
  if (topologyDigest !== undefined && typeof topologyDigest !== "string")
    throw new BadRequestError("bad request body: `topologyDigest` must be a string");
  return body as OperationBody;
}

/** One line of an operation stream. */
export type StreamLine =
  | { type: "event"; event: AnyStewardEvent }
  | { type: "result"; result: OperationResult }
  | { type: "error"; error: ReturnType<StewardError["toJSON"]>["error"] }
  | { type: "warning"; message: string }
  | { type: "plan"; operation: OperationName; components: string[] };

export function createApp(daemon: DaemonControl): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    const error =
      err instanceof StewardError ? err : new StewardError("STW-1999", err.message, { cause: err });
    if (error instanceof RecoveringError) c.header("Retry-After", String(RecoveringError.RETRY_AFTER_S));
    return c.json(error.toJSON(), error.httpStatus as 500);
  });
  app.notFound((c) => {
    const err = new StewardError("STW-1404", `no such endpoint: ${c.req.method} ${c.req.path}`, {
      httpStatus: 404,
    });
    return c.json(err.toJSON(), 404);
  });

  app.get("/v1/status", (c) => c.json(daemon.status()));

  app.post("/v1/daemon/handover", async (c) => c.json(await daemon.handover()));

  for (const operation of ["up", "start", "stop", "restart", "down"] as const) {
    app.post(`/v1/${operation}`, async (c) => {
      const body = await readBody(c.req.raw);
      daemon.admit(operation);
      const components = daemon.resolve(body.components ?? []);

      const warning =
        body.topologyDigest && body.topologyDigest !== daemon.topologyDigest
          ? `${daemon.topologyFile} changed since the daemon loaded it; the daemon still follows the loaded version — run \`steward down\` then \`steward up\` to apply the changes`
          : undefined;
      return streamOperation(daemon, operation, components, warning);
    });
  }
  return app;
}

async function readBody(req: Request): Promise<OperationBody> {
  const text = await req.text();
  if (text.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseOperationBody(json);
}

function streamOperation(
  daemon: DaemonControl,
  operation: OperationName,
  components: string[],
  warning: string | undefined,
): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (line: StreamLine): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        } catch {
          open = false; // the client went away; the operation goes on
        }
      };
      send({ type: "plan", operation, components });
      if (warning) send({ type: "warning", message: warning });
      const unsubscribe = daemon.bus.subscribe((event) => send({ type: "event", event }));
      daemon
        .run(operation, components)
        .then(
          (result) => send({ type: "result", result }),
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
