/**
 * @module api/cluster-operation
 * `POST /v1/cluster/operations` `{"kind": "restart", "components": [...]}`: asks the cluster for
 * an operation and answers with NDJSON lines (cluster/operation-types `ClusterOperationLine`)
 * until it has ended on every node. Unknown components are refused before anything is asked.
 * A client that goes away does not stop the operation: it is the cluster's, in the journal.
 */
import type { Hono } from "hono";
import { BadRequestError } from "../errors.js";
import { followStream } from "./ndjson.js";
import type {
  ClusterOperationKind,
  ClusterOperationLine,
  ClusterOperationView,
} from "../cluster/operation-types.js";

export interface ClusterOperationControl {
  /** Throws `UnknownComponentError` for a name the topology does not declare. */
  resolve(components: string[]): string[];
  /** Throws when the operation cannot be done as asked (a rolling restart that would break `min_available`). */
  check(kind: ClusterOperationKind, components: string[]): Promise<void>;
  /** Asks, then follows until the operation has ended; `send` gets each line. */
  operate(
    kind: ClusterOperationKind,
    components: string[],
    send: (line: ClusterOperationLine) => void,
  ): Promise<ClusterOperationView>;
}

const KINDS: readonly string[] = ["start", "stop", "restart"];

function parse(json: unknown): { kind: ClusterOperationKind; components: string[] } {
  const expected = 'expected {"kind": "start|stop|restart", "components": ["name", …]}';
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new BadRequestError(`bad request body: ${expected}`);
  const { kind, components, ...rest } = json as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined)
    throw new BadRequestError(`bad request body: unknown key \`${extra}\`; ${expected}`);
  if (typeof kind !== "string" || !KINDS.includes(kind))
    throw new BadRequestError(`bad request body: \`kind\` must be start, stop or restart; ${expected}`);
  if (
    components !== undefined &&
    !(Array.isArray(components) && components.every((c) => typeof c === "string" && c))
  )
    throw new BadRequestError(
      `bad request body: \`components\` must be a list of component names; ${expected}`,
    );
  return { kind: kind as ClusterOperationKind, components: (components as string[] | undefined) ?? [] };
}

export function clusterOperationRoute(app: Hono, control: () => ClusterOperationControl): void {
  app.post("/v1/cluster/operations", async (c) => {
    const text = await c.req.text();
    let json: unknown;
    try {
      json = JSON.parse(text || "{}");
    } catch (err) {
      throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
    }
    const body = parse(json);
    const ctl = control();
    ctl.resolve(body.components); // unknown names: refused here, nothing asked
    await ctl.check(body.kind, body.components);
    return clusterStream((send) => ctl.operate(body.kind, body.components, send));
  });
}

/**
 * NDJSON of a cluster operation followed until it has ended: each line as `operate` sends it, then
 * `cluster-result` (or an error). A client that goes away does not stop the operation.
 */
export function clusterStream(
  operate: (send: (line: ClusterOperationLine) => void) => Promise<ClusterOperationView>,
): Response {
  return followStream(operate, (operation): ClusterOperationLine => ({ type: "cluster-result", operation }));
}
