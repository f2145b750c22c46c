/**
 * @module cluster/placement-plan
 * What the primary decides for `placement: { nodes: any }` (design §7): how many replicas of each
 * component every node runs. Pure: the same inputs give the same table.
 *
 * - A node keeps what it has while it is `up` or `suspect`; a `down` or `left` node's share is
 *   placed again on the nodes that are `up` (failover).
 * - A **singleton**'s holder keeps it until its heartbeat is older (database clock) than
 *   `fence + stop budget + margin`: by then the holder has stopped it itself (docs/cluster.md).
 * - The missing replicas go one at a time to the `up` node running the fewest of the component
 *   (then by name), never above `max_per_node`. A node that comes back gets nothing taken from
 *   others: no rebalancing, so a return never makes N + 1.
 * - A node being **drained** (`steward cluster drain`) gets nothing new. While it drains it keeps
 *   what it has, and its replicas are placed a second time on the others (make before break: the
 *   count never drops); once `drained` its share is 0. A singleton is the exception: never placed
 *   twice, it moves only once the drained node has stopped it.
 */
import type { DrainState } from "./drain-sql.js";
import type { NodeState } from "./types.js";

export interface PlacedComponent {
  name: string;
  /** The count over the cluster. */
  replicas: number;
  maxPerNode: number;
  singleton: boolean;
  /** Drain timeout + grace: the longest one replica's stop can take. */
  stopBudgetMs: number;
}

export interface PlanNode {
  name: string;
  state: NodeState;
  /** Heartbeat age by the database's clock. */
  ageMs: number;
  heartbeatMs: number;
  allowedMisses: number;
  /** Taken out by `steward cluster drain` (cluster/drain-sql); null or absent when not. */
  drain?: DrainState | null;
}

/** component → node → replicas */
export type Assignment = Map<string, Map<string, number>>;

/** How long a node goes without a successful heartbeat before it fences its singletons: the `down` threshold. */
export function fenceAfterMs(heartbeatMs: number, allowedMisses: number): number {
  return heartbeatMs * (allowedMisses + 1);
}

/** Slack between the holder's fence having finished and another node being allowed to start: 2 heartbeats, at least 1 s. */
export function handoverMarginMs(heartbeatMs: number): number {
  return Math.max(1000, 2 * heartbeatMs);
}

/** The heartbeat age past which a singleton may be placed elsewhere. */
export function singletonReleaseMs(
  n: Pick<PlanNode, "heartbeatMs" | "allowedMisses">,
  stopBudgetMs: number,
): number {
  return fenceAfterMs(n.heartbeatMs, n.allowedMisses) + stopBudgetMs + handoverMarginMs(n.heartbeatMs);
}

function keeps(c: PlacedComponent, n: PlanNode | undefined): boolean {
  if (n === undefined || n.drain === "drained") return false;
  if (c.singleton) return n.ageMs <= singletonReleaseMs(n, c.stopBudgetMs);
  return n.state === "up" || n.state === "suspect";
}

/** The table the primary should write; rows at 0 stay so a node reads that it has none. */
export function planPlacement(
  components: PlacedComponent[],
  nodes: PlanNode[],
  current: Assignment,
): Assignment {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const up = nodes
    .filter((n) => n.state === "up" && !n.drain)
    .map((n) => n.name)
    .sort();
  const draining = new Set(nodes.filter((n) => n.drain).map((n) => n.name));
  const out: Assignment = new Map();
  for (const c of components) {
    const now = current.get(c.name) ?? new Map<string, number>();
    const next = new Map<string, number>();
    for (const [node, count] of now)
      next.set(node, keeps(c, byName.get(node)) ? Math.min(count, c.maxPerNode) : 0);
    // A draining node's replicas still run but are placed again elsewhere — except a singleton's.
    const counts = (node: string): boolean => c.singleton || !draining.has(node);
    let total = [...next].reduce((a, [node, k]) => a + (counts(node) ? k : 0), 0);
    // Too many (the count was lowered): take from the nodes with the most.
    while (total > c.replicas) {
      const [node, count] = [...next]
        .filter(([n, k]) => counts(n) && k > 0)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1))[0]!;
      next.set(node, count - 1);
      total -= 1;
    }
    // A singleton that is still held (or being released) is never placed a second time.
    while (total < c.replicas) {
      const room = up
        .filter((n) => (next.get(n) ?? 0) < c.maxPerNode)
        .sort((a, b) => (next.get(a) ?? 0) - (next.get(b) ?? 0) || (a < b ? -1 : 1));
      const pick = room[0];
      if (pick === undefined) break; // under-placed
      next.set(pick, (next.get(pick) ?? 0) + 1);
      total += 1;
    }
    out.set(c.name, next);
  }
  return out;
}

/** Whether two tables differ for the components given (a missing row counts as 0). */
export function samePlacement(a: Assignment, b: Assignment): boolean {
  for (const [c, rows] of b) {
    const other = a.get(c) ?? new Map<string, number>();
    for (const node of new Set([...rows.keys(), ...other.keys()]))
      if ((rows.get(node) ?? 0) !== (other.get(node) ?? 0)) return false;
  }
  return true;
}
