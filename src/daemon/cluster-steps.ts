/**
 * @module daemon/cluster-steps
 * What a node's `--cluster` steps run through (the path of `steward start|stop|restart` on this
 * node), and what the primary's rolling gate (cluster/rolling-gate) needs from the topology: what
 * one node's restart of some components may take down, read from this node's own restart plan so
 * the gate and the restart can never disagree; and what a drained node runs its part through.
 */
import type { RestartImpact } from "../cluster/rolling-gate.js";
import type { StepExecutor } from "../cluster/operation-engine.js";
import type { DrainHost } from "../cluster/node-drain.js";
import type { Supervisor } from "../lifecycle/supervisor.js";
import type { CompiledTopology } from "../topology/types.js";

export function clusterStepExecutor(
  topology: CompiledTopology,
  supervisor: Supervisor,
  surge: (component: string) => boolean,
  daemon: Pick<StepExecutor, "run" | "ready" | "patch">,
): StepExecutor {
  return {
    run: daemon.run,
    ready: daemon.ready,
    patch: daemon.patch,
    minAvailable: new Map(topology.components.map((c) => [c.name, c.minAvailable])),
    restartImpact(components) {
      const impact = new Map<string, RestartImpact>();
      for (const phase of supervisor.plan("restart", components))
        for (const c of phase.components)
          impact.set(c, phase.action === "replace" ? (surge(c) ? "none" : "one") : "all");
      return impact;
    },
  };
}

/** This node's part, through the daemon's own operations. */
export function drainHost(
  topology: CompiledTopology,
  desired: ReadonlyMap<string, string>,
  daemon: Pick<DrainHost, "run" | "ready">,
): DrainHost {
  return {
    running: () => topology.components.filter((c) => desired.get(c.name) === "running").map((c) => c.name),
    run: daemon.run,
    ready: daemon.ready,
  };
}
