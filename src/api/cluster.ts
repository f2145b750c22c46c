/**
 * @module api/cluster
 * `GET /v1/cluster` (the view `steward cluster status` prints) and `POST /v1/cluster/leave`.
 * A daemon that is not a cluster node answers both with 409 STW-5003.
 */
import type { Hono } from "hono";
import { NotInClusterError } from "../cluster/errors.js";
import type { ClusterView } from "../cluster/types.js";

export interface ClusterControl {
  /** The topology file the daemon loaded. */
  topologyFile: string;
  /** Present on a cluster node. */
  cluster?:
    | {
        view(): Promise<ClusterView>;
        leave(): Promise<void>;
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
}
