/**
 * @module api/app
 * The control API (Hono): HTTP+JSON, served on the daemon's Unix socket, and with a token on the
 * remote listener of `control:` (api/remote). Operations answer with a
 * stream of NDJSON lines — `{"type":"event",…}` for progress, then one `{"type":"result",…}` — so
 * the CLI can show live progress. Errors render as `{ error: { code, message, details } }`.
 */
import { Hono } from "hono";
import { BadRequestError, RecoveringError, StewardError } from "../errors.js";
import type { AnyStewardEvent, EventBus } from "../events/events.js";
import type { OperationResult } from "../lifecycle/supervisor.js";
import type { StatusDocument } from "../daemon/status.js";
import { jobRoutes, type JobsControl } from "./jobs.js";
import { patchRoutes, type PatchControl } from "./patch.js";
import { patchValidateRoute } from "./patch-validate.js";
import { clusterRoutes, type ClusterControl } from "./cluster.js";
import { tokenRoutes, type TokensControl } from "./tokens.js";
import { ndjsonStream } from "./ndjson.js";
import { bodyLimitMiddleware, checkWhole, DURATION_MS } from "./limits.js";
import type { PhaseResult } from "../patching/cycle.js";
import type { MaintenanceOptions } from "../lifecycle/maintenance.js";
import type { VerifyReport } from "../daemon/verify.js";

export type OperationName =
  "up" | "start" | "stop" | "restart" | "down" | "maintenance-on" | "maintenance-off";

/** What the API needs from the daemon. */
export interface DaemonControl
  extends Omit<JobsControl, "admit">, Omit<PatchControl, "admit">, ClusterControl, TokensControl {
  bus: EventBus;
  /** Throws when the daemon cannot take a mutating call now (`RecoveringError`: 503 + Retry-After). */
  admit(operation: OperationName | "run" | "patch"): void;
  status(): StatusDocument;
  /** Digest of the topology file as the daemon loaded it. */
  topologyDigest: string;
  /** The topology file the daemon loaded. */
  topologyFile: string;
  /** Throws `UnknownComponentError` for a name the topology does not declare. */
  resolve(components: string[]): string[];
  run(operation: OperationName, components: string[], opts?: MaintenanceOptions): Promise<OperationResult>;
  /** `steward verify`: what should run runs, what should not does not. */
  verify(): Promise<VerifyReport>;
  /** `steward daemon restart`: exit without stopping replicas; the next daemon re-adopts them. */
  handover(): Promise<{ pid: number; instance: number; next: number | null }>;
}

/** The body of an operation request. */
export interface OperationBody {
  components?: string[];
  /** The CLI's digest of the topology file; a mismatch earns a warning line. */
  topologyDigest?: string;
  /** `maintenance-on` only: how long to wait for running jobs (ms). */
  wait?: number;
  /** `maintenance-on` only: cancel running jobs at once. */
  cancel?: boolean;
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
    if (!["components", "topologyDigest", "wait", "cancel"].includes(key))
      throw new BadRequestError(`bad request body: unknown key \`${key}\`; ${expected}`, { key });
  const { components, topologyDigest, wait, cancel } = body;
  if (wait !== undefined) checkWhole("wait", wait, DURATION_MS);
  if (cancel !== undefined && typeof cancel !== "boolean")
    throw new BadRequestError("bad request body: `cancel` must be true or false");
  if (wait !== undefined && cancel === true)
    throw new BadRequestError("bad request body: give `wait` or `cancel`, not both");
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
  | { type: "patch"; result: PhaseResult }
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

  // Before every route: no handler reads a body over the limit.
  app.use("*", bodyLimitMiddleware());

  app.get("/v1/status", (c) => c.json(daemon.status()));

  app.post("/v1/daemon/handover", async (c) => c.json(await daemon.handover()));

  jobRoutes(app, daemon);
  patchRoutes(app, daemon);
  patchValidateRoute(app, daemon);
  clusterRoutes(app, daemon);
  tokenRoutes(app, daemon);

  app.get("/v1/verify", async (c) => c.json(await daemon.verify()));

  const paths: Record<OperationName, string> = {
    up: "up",
    start: "start",
    stop: "stop",
    restart: "restart",
    down: "down",
    "maintenance-on": "maintenance/on",
    "maintenance-off": "maintenance/off",
  };
  for (const [operation, path] of Object.entries(paths) as [OperationName, string][]) {
    app.post(`/v1/${path}`, async (c) => {
      const body = await readBody(c.req.raw);
      if ((body.wait !== undefined || body.cancel !== undefined) && operation !== "maintenance-on")
        throw new BadRequestError(
          `bad request body: \`wait\` and \`cancel\` belong to maintenance on, not ${operation}`,
        );
      daemon.admit(operation);
      const components = daemon.resolve(body.components ?? []);

      const warning =
        body.topologyDigest && body.topologyDigest !== daemon.topologyDigest
          ? `${daemon.topologyFile} changed since the daemon loaded it; the daemon still follows the loaded version — run \`steward down\` then \`steward up\` to apply the changes`
          : undefined;
      const opts = {
        ...(body.wait !== undefined ? { waitMs: body.wait } : {}),
        ...(body.cancel ? { cancel: true } : {}),
      };
      return streamOperation(daemon, operation, components, warning, opts);
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
  opts: MaintenanceOptions,
): Response {
  const head: StreamLine[] = [
    { type: "plan", operation, components },
    ...(warning ? [{ type: "warning" as const, message: warning }] : []),
  ];
  return ndjsonStream(
    daemon.bus,
    head,
    () => daemon.run(operation, components, opts),
    (result): StreamLine => ({ type: "result", result }),
  );
}
