/**
 * @module edge/types
 * The words of the edge (design §1, §5) and the records it shows.
 *
 * Glossary: the **edge** is the HTTP reverse proxy of the daemon. A **route** maps a listen port,
 * a host and a path prefix to a **component**; requests go to the component's **replicas** that
 * are **routable** (routing state `in`). An **upstream connection** is a keep-alive TCP
 * connection from the edge to one replica. A **hold** makes new requests wait (bounded queue,
 * bounded time) while no replica is routable; **drain** stops routing new requests to a replica
 * and waits for its in-flight requests.
 */

/**
 * Where a replica stands for routing — one documented union, changed only by the routing table,
 * which records `since` and `reason` with every transition:
 * - `in`: receives new requests;
 * - `out`: taken out by health checks (`fall` failures) or at once by a refused or reset
 *   connection; comes back after `rise` passing checks;
 * - `draining`: receives no new requests, its in-flight requests finish;
 * - `not-ready`: registered but not ready (starting, restarting, stopping).
 */
export type RoutingState = "in" | "out" | "draining" | "not-ready";

/** What the daemon tells the routing table about one replica. */
export interface ReplicaEndpoint {
  /** The replica's port (the `${port}` Steward allocated, or the port it listens on). */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** True once the replica passed its readiness gate (or has none and is running). */
  ready: boolean;
}

/**
 * A replica of another node of the cluster, as the daemon hands it to the routing table: reached
 * at its node's advertised address. Only replicas of `up` nodes that are ready are handed in.
 */
export interface RemoteReplica {
  node: string;
  index: number;
  /** The node's advertised address. */
  host: string;
  port: number;
}

/** One replica in `status`. */
export interface ReplicaRouting {
  /** The node it runs on, for another node's replica (absent for this node's own). */
  node?: string;
  index: number;
  host: string;
  port: number;
  state: RoutingState;
  /** Epoch ms of the last transition. */
  since: number;
  /** Why it is `out` (`health failed: http …: 503`, `connection refused`), else null. */
  reason: string | null;
  /** Requests sent to this replica and not yet answered. */
  inFlight: number;
  /** Upgraded connections (WebSocket) open to this replica. */
  tunnels: number;
  /** Idle keep-alive connections to this replica. */
  idleConnections: number;
}

/** One component in `status`. */
export interface ComponentRouting {
  component: string;
  /** The offline code while the component is offline, else null. */
  offline: string | null;
  /** How long a failing replica may still receive requests: health interval × fall; null without health checks (passive detection only). */
  detectionMs: number | null;
  replicas: ReplicaRouting[];
  /** Other nodes' replicas this edge routes to (cluster mode; absent when none). */
  remote?: ReplicaRouting[];
}

/** A recorded routing transition, for the daemon's event log (`replica:routing`). */
export interface RoutingTransition {
  component: string;
  /** Another node's replica: its node. */
  node?: string;
  index: number;
  from: RoutingState | null;
  to: RoutingState | null;
  reason: string | null;
  at: number;
}

/** What `drain()` found. */
export interface DrainOutcome {
  /** How long it waited for in-flight requests. */
  waitedMs: number;
  /** Requests still in flight when the drain timeout ran out (0 when they all finished). */
  stillInFlight: number;
}
