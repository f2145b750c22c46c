/**
 * @module api/cluster
 * `GET /v1/cluster` (the view `steward cluster status` prints), `POST /v1/cluster/leave`,
 * `POST /v1/cluster/operations` (api/cluster-operation) and `POST /v1/cluster/drain|undrain`
 * (api/cluster-drain), `POST /v1/cluster/patch/<phase>` (api/cluster-patch). A daemon that is not a cluster node
 * answers each with 409 STW-5003.
 */
import type { Hono } from "hono";
import { NotInClusterError } from "../cluster/errors.js";
import type { ClusterView } from "../cluster/types.js";
import { clusterOperationRoute, type ClusterOperationControl } from "./cluster-operation.js";
import { clusterDrainRoutes, type DrainApi } from "./cluster-drain.js";
import { clusterPatchRoutes, type ClusterPatchApi } from "./cluster-patch.js";

export interface ClusterControl {
  /** The topology file the daemon loaded. */
  topologyFile: string;
  /** Throws `UnknownComponentError` for a name the topology does not declare. */
  resolve(components: string[]): string[];
  /** Present on a cluster node. */
  cluster?:
    | {
        view(): Promise<ClusterView>;
        leave(): Promise<void>;
        operate: ClusterOperationControl["operate"];
        checkOperation: ClusterOperationControl["check"];
        drains?: DrainApi | undefined;
        patch?: ClusterPatchApi | undefined;
      }
    | undefined;
}

export function clusterRoutes(app: Hono, daemon: ClusterControl): void {
  const cluster = (): NonNullable<ClusterControl["cluster"]> => {
    if (!daemon.cluster) throw new NotInClusterError(daemon.topologyFile);
    return daemon.cluster;
  };
  app.get("/v1/cluster", async (c) => c.json(await cluster().view()));
  app.post("/v1/cluster/leave", async (c) => {
    await cluster().leave();
    return c.json({ left: true });
  });
  clusterDrainRoutes(app, () => {
    const node = cluster(); // not a cluster node: 409 before anything is read or asked
    if (!node.drains) throw new NotInClusterError(daemon.topologyFile);
    return node.drains;
  });
  clusterPatchRoutes(app, () => {
    const node = cluster();
    if (!node.patch) throw new NotInClusterError(daemon.topologyFile);
    return node.patch;
  });
  clusterOperationRoute(app, () => {
    const node = cluster(); // not a cluster node: 409 before anything is read or asked
    return {
      resolve: (names) => daemon.resolve(names),
      check: (kind, components) => node.checkOperation(kind, components),
      operate: (kind, components, send) => node.operate(kind, components, send),
    };
  });
}
