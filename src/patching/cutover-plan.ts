/**
 * @module patching/cutover-plan
 * What `finalize` decides a cutover will do with each component, in start order:
 *
 * - `switch` — a route reaches it and its replicas get `${port}`: the new edition's replicas start
 *   beside the old ones, and routing moves to them all at once (no request fails);
 * - `restart` — every other component running from the edition: stopped, then started on the new
 *   edition, in dependency order (a short pause for that component alone, as in the seed's cutover).
 *
 * A component whose `cwd` is absolute does not run from an edition and is left alone.
 */
import type { CutoverPlanRecord, OperationStepRecord } from "../store/records.js";
import { DependencyGraph } from "../topology/graph.js";
import type { CompiledTopology } from "../topology/types.js";

/** The cutover plan of `topology`; `surge(c)` tells whether `c` can run both editions side by side. */
export function planCutover(
  topology: CompiledTopology,
  surge: (component: string) => boolean,
): CutoverPlanRecord {
  const order = new DependencyGraph(topology.components).startOrder();
  const components = order
    .map((name) => topology.components.find((c) => c.name === name)!)
    .filter((c) => c.editionCwd !== undefined)
    .map((c) => ({ name: c.name, mode: surge(c.name) ? ("switch" as const) : ("restart" as const) }));
  return { components, computedAt: Date.now() };
}

/** One line per component, for `patch finalize` and `patch status`. */
export function describePlan(plan: CutoverPlanRecord): string[] {
  if (plan.components.length === 0)
    return ["no component runs from the edition: cutover only switches the links"];
  return plan.components.map((c) =>
    c.mode === "switch"
      ? `${c.name}: switch — new replicas start beside the old, routing moves at once, no downtime`
      : `${c.name}: restart — stopped and started on the new edition (a short pause for ${c.name})`,
  );
}

/**
 * After a crash during a cutover: which replica index should serve each slot. Once the journal has
 * the `switch` step (written before routing moved), the new edition's replicas serve; before it,
 * undefined — the old ones serve (lifecycle/replica-slots' default), and the cutover rolls back.
 */
export function switchedIndices(steps: readonly OperationStepRecord[]): Map<string, number[]> | undefined {
  const step = steps.find((s) => s.name === "switch");
  if (!step?.detail) return undefined;
  try {
    return new Map(Object.entries(JSON.parse(step.detail) as Record<string, number[]>));
  } catch {
    return undefined;
  }
}
