/**
 * @module api/cluster-drain
 * `POST /v1/cluster/drain` and `POST /v1/cluster/undrain` `{"node": "n2"}`: checks and asks
 * (refusals answer 404 or 409 before anything is written), then answers with NDJSON lines
 * (cluster/drain-control `DrainLine`) until the node is drained or back. A client that goes away
 * does not stop it: the request is in the store, and the node works through it.
 */
import type { Hono } from "hono";
import { BadRequestError } from "../errors.js";
import { followStream } from "./ndjson.js";
import type { DrainKind, DrainLine } from "../cluster/drain-control.js";

export interface DrainApi {
  ask(kind: DrainKind, node: string): Promise<void>;
  follow(kind: DrainKind, node: string, send: (line: DrainLine) => void): Promise<DrainLine>;
}

function parse(text: string): string {
  const expected = 'expected {"node": "name"}';
  let json: unknown;
  try {
    json = JSON.parse(text || "{}");
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new BadRequestError(`bad request body: ${expected}`);
  const { node, ...rest } = json as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined)
    throw new BadRequestError(`bad request body: unknown key \`${extra}\`; ${expected}`);
  if (typeof node !== "string" || node === "")
    throw new BadRequestError(`bad request body: \`node\` must be a node's name; ${expected}`);
  return node;
}

export function clusterDrainRoutes(app: Hono, drains: () => DrainApi): void {
  for (const kind of ["drain", "undrain"] as const) {
    app.post(`/v1/cluster/${kind}`, async (c) => {
      const node = parse(await c.req.text());
      const api = drains();
      await api.ask(kind, node);
      return followStream(
        (send: (line: DrainLine) => void) => api.follow(kind, node, send),
        (last) => last,
      );
    });
  }
}
