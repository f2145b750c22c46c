/**
 * @module cluster/placement-view
 * Where each placed component runs, for `steward cluster status` and `steward status`: per node,
 * the replicas it should run (`assigned`) and those running; `under-placed` when the nodes that
 * are up cannot hold `replicas` (`max_per_node` × up nodes < replicas) or fewer are placed.
 */
import type { CompiledComponent } from "../topology/types.js";
import type { Assignment } from "./placement-plan.js";
import type { NodeState } from "./types.js";

export interface ComponentPlacement {
  component: string;
  /** `all`, `any`, or the listed nodes. */
  nodes: "all" | "any" | string[];
  /** `nodes: any`: over the cluster; otherwise per node. */
  replicas: number;
  singleton: boolean;
  perNode: { node: string; assigned: number; running: number }[];
  underPlaced: boolean;
}

const RUNNING = new Set(["starting", "running", "ready", "draining", "stopping"]);

/** `replicas`: each node's replicas as its records say (node → component, state). */
export function placementView(
  components: readonly CompiledComponent[],
  table: Assignment,
  nodes: readonly { name: string; state: NodeState }[],
  replicas: ReadonlyMap<string, readonly { component: string; state: string }[]>,
): ComponentPlacement[] {
  const up = nodes.filter((n) => n.state === "up");
  return components.flatMap((c) => {
    const p = c.placement;
    if (p === undefined) return [];
    const perNode = nodes.map((n) => {
      const assigned =
        p.nodes === "any"
          ? (table.get(c.name)?.get(n.name) ?? 0)
          : n.state === "left" || (Array.isArray(p.nodes) && !p.nodes.includes(n.name))
            ? 0
            : c.replicas;
      const running = (replicas.get(n.name) ?? []).filter(
        (r) => r.component === c.name && RUNNING.has(r.state),
      ).length;
      return { node: n.name, assigned, running };
    });
    const placed = perNode.reduce((a, b) => a + b.assigned, 0);
    const underPlaced = p.nodes === "any" && (p.maxPerNode * up.length < c.replicas || placed < c.replicas);
    return [
      {
        component: c.name,
        nodes: p.nodes,
        replicas: c.replicas,
        singleton: p.singleton,
        perNode,
        underPlaced,
      },
    ];
  });
}

/** One line per placed component, for the CLI. */
export function renderPlacement(list: readonly ComponentPlacement[], self?: string): string[] {
  return list.map((p) => {
    const where =
      p.nodes === "any"
        ? `any, ${p.replicas} over the cluster${p.singleton ? " (singleton)" : ""}`
        : p.nodes === "all"
          ? "all"
          : p.nodes.join(", ");
    const nodes = p.perNode
      .filter((n) => n.assigned > 0 || n.running > 0 || n.node === self)
      .map((n) =>
        n.assigned === 0 && n.running === 0 && p.nodes !== "any"
          ? `${n.node} not placed here`
          : `${n.node} ${n.running}/${n.assigned}`,
      )
      .join(", ");
    return `placement ${p.component}: ${where} · running/assigned: ${nodes || "none"}${p.underPlaced ? " · under-placed" : ""}`;
  });
}
