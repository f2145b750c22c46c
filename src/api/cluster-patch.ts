/**
 * @module api/cluster-patch
 * `POST /v1/cluster/patch/<phase>`: a patch phase on every `up` node, driven by the primary as one
 * cluster operation (kind `patch`). The body is the phase's own (api/patch-phases), plus `abandon`
 * (a boolean, default true: cluster/abandon) and, for a cutover, `strategy` (`rolling` or `together`). Refusals — a bad body, patching not configured here, a
 * node in drift, a rolling cutover that could not keep `min_available` — come before anything is
 * asked; the answer is then NDJSON like `POST /v1/cluster/operations`.
 */
import type { Hono } from "hono";
import { BadRequestError } from "../errors.js";
import type {
  ClusterOperationLine,
  ClusterOperationView,
  PatchOperationArgs,
} from "../cluster/operation-types.js";
import type { NodePatchState } from "../cluster/patch-status.js";
import { checkPhaseBody, PHASES } from "./patch-phases.js";
import { clusterStream } from "./cluster-operation.js";

export interface ClusterPatchApi {
  /** Throws when the phase cannot be asked of the cluster as it is (nothing asked). */
  check(args: PatchOperationArgs): Promise<void>;
  /** Stores what the nodes need (apply's patches), asks, and follows until every node's step ended. */
  operate(
    args: PatchOperationArgs,
    send: (line: ClusterOperationLine) => void,
  ): Promise<ClusterOperationView>;
  /** Each node's newest patch session (`patch status`). */
  nodes(): Promise<NodePatchState[]>;
}

const STRATEGIES = ["rolling", "together"];

export function clusterPatchRoutes(app: Hono, control: () => ClusterPatchApi): void {
  for (const phase of Object.keys(PHASES)) {
    app.post(`/v1/cluster/patch/${phase}`, async (c) => {
      const text = await c.req.text();
      let json: unknown = {};
      if (text.trim() !== "")
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
        }
      if (typeof json !== "object" || json === null || Array.isArray(json))
        throw new BadRequestError(`bad request body for patch ${phase}: expected a JSON object`);
      const { strategy, abandon, ...rest } = json as Record<string, unknown>;
      if (abandon !== undefined && typeof abandon !== "boolean")
        throw new BadRequestError(`bad request body for patch ${phase}: \`abandon\` must be a boolean`, {
          key: "abandon",
        });
      if (strategy !== undefined && (phase !== "cutover" || !STRATEGIES.includes(strategy as string)))
        throw new BadRequestError(
          phase === "cutover"
            ? "bad request body for patch cutover: `strategy` must be rolling or together"
            : `bad request body for patch ${phase}: \`strategy\` is for cutover only`,
          { key: "strategy" },
        );
      const body = checkPhaseBody(phase, rest);
      const args: PatchOperationArgs = {
        phase,
        body,
        ...(abandon === false ? { abandon: false } : {}),
        ...(phase === "cutover"
          ? { strategy: (strategy as "rolling" | "together" | undefined) ?? "rolling" }
          : {}),
      };
      const ctl = control();
      await ctl.check(args);
      return clusterStream((send) => ctl.operate(args, send));
    });
  }
}
