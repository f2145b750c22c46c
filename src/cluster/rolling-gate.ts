/**
 * @module cluster/rolling-gate
 * Whether the primary may let one more node restart now (design §7: rolling operations never drop
 * a component below `min_available`, counted over the cluster). Pure: the same inputs, the same answer.
 *
 * What one node's restart may take down of a component (its **impact**) is what that node's own
 * restart does (lifecycle/supervisor `plan`): `none` for a surge replacement (the new replica is
 * ready before the old one drains), `one` for an in-place rolling restart (one replica at a time),
 * `all` when the component is stopped and started (one replica, `min_available` held only by the
 * others, placed components, or a dependant of such a component). Nodes whose step is already
 * under way are counted as having nothing ready: the gate never relies on a node mid-restart.
 */
import { readyOutside, type ReadyCounts } from "./ready-counts.js";

export type RestartImpact = "none" | "one" | "all";

export interface GateInput {
  /** component → what one node's restart may take down of it. */
  impact: ReadonlyMap<string, RestartImpact>;
  /** component → its `min_available`. */
  minAvailable: ReadonlyMap<string, number>;
  ready: ReadyCounts;
}

/**
 * Why `node`'s restart may not begin while the nodes in `busy` restart; undefined when it may.
 * @example blockedRestart("n2", [], gate) // "web: 2 ready in the cluster; restarting n2 may take 2 down, min_available is 1"
 */
export function blockedRestart(node: string, busy: readonly string[], g: GateInput): string | undefined {
  for (const [component, impact] of g.impact) {
    const min = g.minAvailable.get(component) ?? 0;
    if (min === 0) continue;
    const mine = g.ready.get(component)?.get(node) ?? 0;
    const loss = impact === "none" ? 0 : impact === "one" ? Math.min(1, mine) : mine;
    const serving = readyOutside(g.ready, component, busy);
    if (serving - loss < min) {
      const where = busy.length > 0 ? ` outside ${busy.join(", ")} (restarting)` : " in the cluster";
      return `${component}: ${serving} ready${where}; restarting ${node} may take ${loss} down, min_available is ${min}`;
    }
  }
  return undefined;
}
