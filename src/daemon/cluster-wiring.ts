/**
 * @module daemon/cluster-wiring
 * Connects a daemon to its cluster (src/cluster) when the topology has `cluster:`: the node's name
 * is claimed before the store is opened (a refused claim leaves every state record untouched),
 * the node's state records live in its own schema, replicas get `STEWARD_NODE`, `steward status`
 * gets one line about the cluster and `steward cluster …` its view. An orderly `down` marks the
 * node `left` and gives up the primary lease at once.
 */
import type pg from "pg";
import type { Membership } from "../cluster/membership.js";
import type { ClusterOperations } from "../cluster/operation-engine.js";
import type {
  ClusterOperationKind,
  ClusterOperationLine,
  ClusterOperationView,
} from "../cluster/operation-types.js";
import { readRemoteReplicas, type RemoteReplicaRecord } from "../cluster/remote-replicas.js";
import type { ClusterView, MembershipStatus } from "../cluster/types.js";
import type { Reseeds } from "../cluster/reseed.js";
import { RollingRefusedError } from "../cluster/errors.js";
import type { CompiledTopology } from "../topology/types.js";
import type { DaemonPlacement } from "./placement-wiring.js";
import type { DaemonDrains } from "./drain-wiring.js";
import type { ClusterPatchApi } from "../api/cluster-patch.js";
import type { NodeResync } from "./node-resync.js";

const READ_TIMEOUT_MS = 5_000;

export class DaemonCluster {
  readonly membership: Membership;
  readonly #reads: pg.Pool;
  /** `--cluster` operations (cluster/operation-engine); this node's steps run once the daemon starts it. */
  operations: ClusterOperations | undefined;
  /** `steward cluster drain|undrain` (daemon/drain-wiring): asking, and this node's part once started. */
  drains: DaemonDrains | undefined;

  constructor(membership: Membership, reads: pg.Pool) {
    this.membership = membership;
    this.#reads = reads;
  }

  /** What `openStore` needs: this node's schema. */
  get storeOptions(): { schema: string } {
    return { schema: this.membership.schema };
  }

  /** Acting on placement (daemon/placement-wiring), once the supervisor exists. */
  placement: DaemonPlacement | undefined;

  /** `steward patch <phase>` asked of every node (daemon/cluster-patch), once patching is attached. */
  patch: ClusterPatchApi | undefined;

  /** This node catching up after a patch phase abandoned it (daemon/node-resync). */
  resync: NodeResync | undefined;

  /** Patch blobs going to and from the store (cluster/patch-blobs): a pool of its own, connected on first use. */
  blobs: pg.Pool | undefined;

  /** Re-seeding from a peer (daemon/reseed-wiring), when a component has `reseed`. */
  reseeds: Reseeds | undefined;

  status(): MembershipStatus {
    const placement = this.placement?.status();
    const reseeds = this.reseeds?.status();
    return {
      ...this.membership.status(),
      ...(placement?.length ? { placement } : {}),
      ...(reseeds?.length ? { reseeds } : {}),
    };
  }

  /** Every node, the primary, and every node's replicas (status reads use a pool of their own). */
  async view(): Promise<ClusterView> {
    const { readClusterView } = await import("../cluster/view.js");
    const view = await readClusterView(this.#reads, this.membership.node);
    const placement = this.placement?.clusterView(view);
    return placement?.length ? { ...view, placement } : view;
  }

  /**
   * The other `up` nodes' ready replicas of `components`, after each heartbeat: one statement on
   * the read pool per heartbeat. Returns the unsubscribe function.
   */
  followRemoteReplicas(
    components: readonly string[],
    apply: (replicas: RemoteReplicaRecord[]) => void,
    warn: (message: string) => void,
  ): () => void {
    let busy = false;
    let failing = false;
    return this.membership.onBeat(() => {
      if (busy) return; // a slow read: the next heartbeat tries again
      busy = true;
      readRemoteReplicas(this.#reads, this.membership.node, this.membership.nodes, components)
        .then((replicas) => {
          if (failing) warn("cluster: other nodes' replicas are read again");
          failing = false;
          apply(replicas);
        })
        .catch((err: unknown) => {
          if (!failing)
            warn(
              `cluster: cannot read other nodes' replicas (${(err as Error).message}); routing keeps the last list, with health checks`,
            );
          failing = true;
        })
        .finally(() => {
          busy = false;
        });
    });
  }

  /**
   * How long another node's edge may go on routing to one of this node's replicas after it left
   * `ready`: its next heartbeat's read, plus slack for the read itself. 0 with no other node up.
   */
  remoteRoutingLagMs(): number {
    const m = this.membership;
    const others = m.nodes.some((n) => n.name !== m.node && (n.state === "up" || n.state === "suspect"));
    const beat = m.heartbeatMs;
    return others ? beat + Math.max(200, beat / 2) : 0;
  }

  /** `steward <kind> --cluster`: asked of the primary through the journal, followed until it has ended. */
  operate(
    kind: ClusterOperationKind,
    components: string[],
    send: (line: ClusterOperationLine) => void,
  ): Promise<ClusterOperationView> {
    return this.operations!.operate(kind, components, send);
  }

  /** Refuses (RollingRefusedError) a restart that could not keep a `min_available` from the start. */
  async checkOperation(kind: ClusterOperationKind, components: string[]): Promise<void> {
    const refusal = await this.operations!.refusal(kind, components);
    if (refusal) throw new RollingRefusedError(kind, refusal.node, refusal.reason);
  }

  async leave(): Promise<void> {
    await this.membership.leave();
  }

  async close(): Promise<void> {
    this.resync?.close();
    await this.drains?.close();
    await this.operations?.close();
    await this.placement?.close();
    await this.reseeds?.close();
    await this.blobs?.end().catch(() => undefined);
    await this.membership.close();
    await this.#reads.end().catch(() => undefined);
  }
}

/**
 * Joins the cluster when `topology.cluster` is set (the PostgreSQL driver and the cluster code are
 * loaded only then); undefined otherwise.
 *
 * @throws NodeNameTakenError (STW-5001) when a live daemon elsewhere holds this node's name.
 */
export async function joinCluster(
  topology: CompiledTopology,
  log: (level: "info" | "warn" | "error", message: string) => void,
): Promise<DaemonCluster | undefined> {
  const cluster = topology.cluster;
  if (cluster === undefined || topology.store.kind !== "postgres") return undefined;
  const url = topology.store.url;
  const [{ Membership }, { clusterClientConfig }, { default: pg }] = await Promise.all([
    import("../cluster/membership.js"),
    import("../cluster/membership.js"),
    import("pg"),
  ]);
  const membership = await Membership.join({
    url,
    cluster,
    home: topology.home,
    pid: process.pid,
    topologyDigest: cluster.digest,
    log,
  });
  // Replicas and job runs inherit the daemon's environment; a replica other nodes' edges reach
  // binds STEWARD_ADVERTISE (or every address).
  process.env.STEWARD_NODE = cluster.node;
  process.env.STEWARD_ADVERTISE = cluster.advertise;
  log(
    "info",
    `cluster: node ${cluster.node} registered (advertises ${cluster.advertise}, state in schema ${membership.schema})`,
  );
  // Status and routing reads are no liveness decision: a busy machine gets 5 s, not a heartbeat's.
  const reads = new pg.Pool({
    ...clusterClientConfig(url, cluster),
    query_timeout: READ_TIMEOUT_MS,
    statement_timeout: READ_TIMEOUT_MS,
    max: 1,
    idleTimeoutMillis: 10_000,
  });
  reads.on("error", () => undefined);
  const joined = new DaemonCluster(membership, reads);
  const { ClusterOperations } = await import("../cluster/operation-engine.js");
  joined.operations = new ClusterOperations({ url, cluster, membership, log });
  // A blob chunk is 1 MiB: a slow link gets a minute per statement, not a heartbeat's limit.
  joined.blobs = new pg.Pool({
    ...clusterClientConfig(url, cluster),
    query_timeout: 60_000,
    statement_timeout: 60_000,
    max: 1,
    idleTimeoutMillis: 10_000,
  });
  joined.blobs.on("error", () => undefined);
  const { joinDrains } = await import("./drain-wiring.js");
  joined.drains = joinDrains(topology, url, membership, log);
  return joined;
}

/** The status document with the cluster line's data, on a cluster node. */
export function withCluster<T extends object>(
  doc: T,
  cluster: DaemonCluster | undefined,
): T & { cluster?: MembershipStatus } {
  return cluster ? { ...doc, cluster: cluster.status() } : doc;
}
