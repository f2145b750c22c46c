/**
 * @module cluster/drain-check
 * Whether a node may be drained (`steward cluster drain NODE`) without breaking what the topology
 * promises, counted over the cluster with today's ready replicas. Pure: same inputs, same answer.
 *
 * - A component every node (or a list of nodes) runs: the other nodes must keep `min_available`
 *   ready replicas, and at least one when the node serves it now (never drain the last one).
 * - A `nodes: any` component is placed again on the other nodes before the node stops it: they
 *   need room for its `replicas` (`max_per_node` each).
 */
import { readyOutside, type ReadyCounts } from "./ready-counts.js";

export interface DrainedComponent {
  name: string;
  minAvailable: number;
  /** `any`: placed by the primary; `fixed`: every node, or a list of nodes. */
  placement: "any" | "fixed";
  replicas: number;
  maxPerNode: number;
}

/**
 * Why `node` may not be drained; undefined when it may. `away`: nodes that are draining, drained,
 * down or left (they serve nothing); `room`: the nodes that could take placed replicas.
 * @example drainRefusal("n2", components, ready, ["n3"], ["n1"])
 */
export function drainRefusal(
  node: string,
  components: readonly DrainedComponent[],
  ready: ReadyCounts,
  away: readonly string[],
  room: readonly string[],
): string | undefined {
  for (const c of components) {
    if (c.placement === "any") {
      const places = room.length * c.maxPerNode;
      if (places < c.replicas)
        return `${c.name}: ${c.replicas} replica(s) of a \`nodes: any\` component must run on the other nodes (${room.join(", ") || "none"}), at most ${c.maxPerNode} on each: room for ${places}`;
      continue;
    }
    const mine = ready.get(c.name)?.get(node) ?? 0;
    const others = readyOutside(ready, c.name, [node, ...away]);
    if (mine > 0 && others === 0)
      return `${node} is the last node serving ${c.name} (${mine} ready replica(s) there, none elsewhere)`;
    if (others < c.minAvailable)
      return `${c.name}: draining ${node} leaves ${others} ready replica(s) on the other nodes; min_available is ${c.minAvailable}`;
  }
  return undefined;
}
