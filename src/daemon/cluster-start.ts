/**
 * @module daemon/cluster-start
 * What a cluster node starts once its daemon is active: its part in cluster operations (run through
 * the daemon's own `start|stop|restart` and patch phases), the asking side of cluster patch phases,
 * catching up after a patch phase abandoned it, and its part in drains.
 */
import type { OperationResult, Supervisor } from "../lifecycle/supervisor.js";
import type { CompiledTopology } from "../topology/types.js";
import { ClusterPatchControl } from "./cluster-patch.js";
import { clusterStepExecutor, drainHost } from "./cluster-steps.js";
import type { DaemonCluster } from "./cluster-wiring.js";
import { NodeResync } from "./node-resync.js";
import { patchStepRunner } from "./patch-step.js";
import type { DaemonPatching } from "./patch-wiring.js";

export interface ClusterStartParts {
  topology: CompiledTopology;
  supervisor: Supervisor;
  surge: (component: string) => boolean;
  patching: DaemonPatching | undefined;
  /** The local operation, as `steward start|stop|restart` runs it. */
  run: (kind: "start" | "stop" | "restart", components: string[]) => Promise<OperationResult>;
  /** False while the daemon recovers or shuts down. */
  ready: () => boolean;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

export function startClusterParts(cluster: DaemonCluster, p: ClusterStartParts): void {
  const { membership, operations, blobs } = cluster;
  const patchStep = patchStepRunner({
    patching: p.patching,
    pool: () => blobs!,
    node: membership.node,
    pollMs: membership.heartbeatMs,
  });
  operations?.start(
    clusterStepExecutor(p.topology, p.supervisor, p.surge, { run: p.run, ready: p.ready, patch: patchStep }),
  );
  if (operations && blobs)
    cluster.patch = new ClusterPatchControl({
      membership,
      operations,
      blobs,
      patching: p.patching,
      topologyFile: p.topology.file,
    });
  if (blobs && p.patching) {
    cluster.resync = new NodeResync({
      pool: blobs,
      membership,
      patching: p.patching,
      run: patchStep,
      ready: p.ready,
      log: p.log,
    });
    cluster.resync.start();
  }
  cluster.drains?.node.start(drainHost(p.topology, p.supervisor.desired, { run: p.run, ready: p.ready }));
}
