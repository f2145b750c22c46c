/**
 * @module cluster/abandon
 * The abandon rule of the patch cycle on every node (design §7; cluster/patch-sql): which node's
 * step the primary gives up on, and why not when it does not. Pure: the same inputs, the same answer.
 *
 * - A **down** node whose step is open, or a node whose step **failed** while another node did the
 *   same step (a step failed everywhere is the patch's fault, not the node's), is a candidate once
 *   no other node is still running the step.
 * - It is abandoned only when the operation allows it (`--abandon yes`, the default) and the other
 *   nodes still keep every `min_available` without it; otherwise a down node's step fails with the
 *   reason, and the phase stops there to be run again or aborted.
 */
import { readyOutside, type ReadyCounts } from "./ready-counts.js";

export interface StepRow {
  node: string;
  state: string;
}

export interface AbandonInput {
  steps: readonly StepRow[];
  /** Each node's state (`up`, `suspect`, `down`, `left`) and heartbeat age. */
  nodes: ReadonlyMap<string, { state: string; ageMs: number }>;
  /** Nodes already marked for resync (they serve nothing the cluster counts on). */
  resync: readonly string[];
  /** Nodes waiting at a `together` cutover's commit point: their step runs, but waits on the rest. */
  waiting?: readonly string[];
  allowed: boolean;
  minAvailable: ReadonlyMap<string, number>;
  ready: ReadyCounts;
  phase: string;
}

export type AbandonDecision =
  { node: string; action: "abandon"; outcome: string } | { node: string; action: "fail"; outcome: string };

const OPEN = new Set(["waiting", "released", "running"]);

export function decideAbandon(i: AbandonInput): AbandonDecision[] {
  const down = (node: string): boolean => i.nodes.get(node)?.state === "down";
  const busy = i.steps.some(
    (s) => (s.state === "released" || s.state === "running") && !down(s.node) && !i.waiting?.includes(s.node),
  );
  if (busy) return [];
  const someDone = i.steps.some((s) => s.state === "done");
  const out: AbandonDecision[] = [];
  const gone = [...i.resync];
  for (const s of i.steps) {
    if (i.resync.includes(s.node)) continue; // marked already: its steps are skipped, not abandoned again
    const lost = down(s.node) && (OPEN.has(s.state) || s.state === "skipped");
    const failed = s.state === "failed" && someDone;
    if (!lost && !failed) continue;
    const age = i.nodes.get(s.node)?.ageMs ?? 0;
    const what = lost
      ? `node ${s.node} went down during patch ${i.phase} (last heartbeat ${age} ms ago)`
      : `patch ${i.phase} failed on ${s.node} while other nodes did it`;
    const short = shortfall(s.node, [...gone, ...downNodes(i)], i);
    if (i.allowed && short === undefined) {
      gone.push(s.node);
      out.push({
        node: s.node,
        action: "abandon",
        outcome: `abandoned: ${what}; the cycle goes on without it, and it is brought to the cluster's run edition when it is back`,
      });
    } else if (lost)
      out.push({
        node: s.node,
        action: "fail",
        outcome: `${what}; not abandoned: ${i.allowed ? short : "--abandon no"} — run the phase again once it is back, or abort`,
      });
  }
  return out;
}

function downNodes(i: AbandonInput): string[] {
  return [...i.nodes].filter(([, n]) => n.state === "down" || n.state === "left").map(([name]) => name);
}

/** Why the cluster without `node` (and `gone`) would break a `min_available`; undefined when it would not. */
function shortfall(node: string, gone: readonly string[], i: AbandonInput): string | undefined {
  for (const [component, min] of i.minAvailable) {
    if (min === 0) continue;
    const left = readyOutside(i.ready, component, [node, ...gone]);
    if (left < min)
      return `${component} would have ${left} ready replica(s) on the other nodes, min_available is ${min}`;
  }
  return undefined;
}
