/**
 * @module topology/placement
 * A component's `placement` compiled (design §7): in a cluster every component has one, with every
 * default applied; without `cluster:` none has (one node runs everything).
 */
import type { PlacementInput } from "./placement-schema.js";
import type { CompiledPlacement } from "./types.js";

/**
 * `replicas` is the component's compiled count: per node for `nodes: all` and a list, cluster-wide
 * for `nodes: any` (the checks allow each count only where it applies).
 * @example compilePlacement({ nodes: "any" }, 1) // { nodes: "any", perNode: false, maxPerNode: 1, singleton: true }
 */
export function compilePlacement(p: PlacementInput | undefined, replicas: number): CompiledPlacement {
  const nodes = p?.nodes ?? "all";
  if (nodes !== "any") return { nodes, perNode: true, maxPerNode: replicas, singleton: false };
  return {
    nodes,
    perNode: false,
    maxPerNode: Math.min(p?.max_per_node ?? replicas, replicas),
    singleton: replicas === 1,
  };
}
