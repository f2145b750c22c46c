/**
 * @module topology/placement-schema
 * The `placement` of a component and the `nodes` a cluster declares, as written (design §7). The
 * rules that span keys (a cluster is needed, which `replicas` counts what, declared nodes) are
 * checked by `placementChecks()`; defaults are applied by `compilePlacement()`.
 */
import * as z from "zod";
import { nodeName } from "./node-name.js";
import { didYouMeanSuffix } from "./suggest.js";
import { describeValue, integer, leaf } from "./values.js";

/** `nodes`: `all`, `any`, or a list of node names. */
const nodes = z.union(
  [
    leaf<"all" | "any">((v) =>
      v === "all" || v === "any"
        ? { value: v }
        : {
            problem: `expected \`all\`, \`any\` or a list of node names, got ${describeValue(v)}${typeof v === "string" ? didYouMeanSuffix(v, ["all", "any"]) : ""}`,
          },
    ),
    z.array(nodeName),
  ],
  { error: "expected `all`, `any` or a list of node names" },
);

/**
 * `placement: { nodes: all }` (every node runs `replicas`), `{ nodes: any, replicas: N,
 * max_per_node: M }` (N replicas over the cluster) or `{ nodes: [n1, n2] }` (each listed node runs
 * `replicas`).
 */
export const placementSchema = z.strictObject({
  nodes: nodes.optional(),
  /** With `nodes: any`: the cluster-wide count. */
  replicas: integer(1).optional(),
  /** With `nodes: any`: the most one node runs. */
  max_per_node: integer(1).optional(),
});

/** `cluster.nodes`: the declared members. */
export const clusterNodesSchema = z.array(nodeName);

export type PlacementInput = z.output<typeof placementSchema>;
