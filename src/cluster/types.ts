/**
 * @module cluster/types
 * The words of cluster mode (design §1, §7) and the documents status shows.
 *
 * - **node**: one machine (or home) running a daemon, named uniquely in the cluster.
 * - **cluster**: the nodes sharing one PostgreSQL store.
 * - **primary**: the node holding the primary lease; every write it makes for the cluster is
 *   fenced on the lease's **epoch**.
 * - **heartbeat**: a node's periodic proof of life, judged by the database's clock.
 */
import type { FencedWriter } from "./fenced-write.js";
import type { DrainState } from "./drain-sql.js";
import type { ComponentPlacement } from "./placement-view.js";
import type { ReseedStatus } from "./reseed.js";

/**
 * A node's state as every reader derives it from its last heartbeat (database clock):
 * `up`; `suspect` after one missed heartbeat (age > 1.5 × heartbeat); `down` after
 * heartbeat × (allowed_misses + 1); `left` after `steward cluster leave` or `steward down`.
 */
export type NodeState = "up" | "suspect" | "down" | "left";

export interface NodeReplica {
  component: string;
  index: number;
  state: string;
  pid: number | null;
  port: number | null;
}

export interface NodeView {
  name: string;
  state: NodeState;
  /** The address other nodes and edges reach its replicas at. */
  advertise: string;
  hostname: string;
  home: string;
  pid: number;
  instance: number | null;
  /** Milliseconds since its last heartbeat, by the database's clock. */
  heartbeatAgeMs: number;
  heartbeatMs: number;
  allowedMisses: number;
  topologyDigest: string;
  /** Its topology digest differs from the primary's. */
  drift: boolean;
  /** Taken out by `steward cluster drain`: `draining`, `drained`, `undraining`; null when not. */
  drain: DrainState | null;
  /** Abandoned by a patch phase and not caught up yet: routed by no other node. */
  resync: boolean;
  primary: boolean;
  /** Its schema holding its state records. */
  schema: string;
  /** Its replicas as its state records say (only in `steward cluster status`). */
  replicas?: NodeReplica[];
}

export interface ClusterView {
  /** The node asked. */
  self: string;
  /** The lease holder while the lease is live, else null. */
  primary: string | null;
  epoch: number;
  /** Milliseconds the lease has left by the database's clock (≤ 0: expired). */
  leaseLeftMs: number;
  nodes: NodeView[];
  /** Where each placed component runs: assigned and running per node, `underPlaced` (cluster/placement-view). */
  placement?: ComponentPlacement[];
}

/** This node's own membership, for `steward status` (no store round trip). */
/** Fenced writes accepted and rejected. */
export interface FencedWriteCounts {
  accepted: number;
  rejected: number;
}

export interface MembershipStatus {
  node: string;
  advertise: string;
  schema: string;
  /** `connected` while heartbeats succeed; `unreachable` while the store is away; `left`; `taken` when another daemon claimed the name. */
  link: "connected" | "unreachable" | "left" | "taken";
  /** This node acts as primary now (by its monotonic clock). */
  primary: boolean;
  /** The epoch it acts under, or the last one it saw. */
  epoch: number | null;
  /** The lease holder as of the last heartbeat. */
  leaseHolder: string | null;
  /** Counts from the last heartbeat's view. */
  nodes: Record<NodeState, number>;
  heartbeats: { ok: number; failed: number; lastOkAgoMs: number | null };
  /**
   * Writes this node made as primary — its record, placement, cluster operations' decisions —
   * accepted by the fence or rejected by it, in total and by writer (cluster/fenced-write).
   */
  fencedWrites: FencedWriteCounts & { by: Record<FencedWriter, FencedWriteCounts> };
  /** Times this node became primary, and stepped down (with the last reason). */
  terms: { acquired: number; steppedDown: number; lastStepDown: string | null };
  /** This node's part of each placed component (cluster/placement-view). */
  placement?: ComponentPlacement[];
  /** Each component's latest reseed on this node, and one under way (cluster/reseed). */
  reseeds?: ReseedStatus[];
}
