/**
 * @module edge/routed-replica
 * One replica as the edge sees it: its endpoint, its routing state (changed only by the routing
 * table), its in-flight requests and open tunnels, its keep-alive pool and its health checker.
 * A replica of another node of the cluster carries that node's name.
 */
import type { HealthChecker, HealthCounter } from "./health.js";
import type { ReplicaRouting, RoutingState } from "./types.js";
import { UpstreamPool, type PoolOptions } from "./upstream/pool.js";

export class RoutedReplica {
  state: RoutingState = "not-ready";
  since: number;
  reason: string | null = null;
  /** Requests sent to this replica and not yet answered. */
  inFlight = 0;
  /** Upgraded (WebSocket) connections open to this replica. */
  tunnels = 0;
  ready = false;
  /** Set once it left the table: in-flight requests finish, nothing new is sent. */
  removed = false;
  readonly pool: UpstreamPool;
  /** `host:port`, the Host sent to it when a client sent none. */
  readonly hostPort: string;
  checker: HealthChecker | null = null;
  counter: HealthCounter | null = null;
  /** Called when `inFlight` reaches 0 (a drain waiting for it). */
  #idleWaiters: (() => void)[] = [];

  constructor(
    readonly component: string,
    readonly index: number,
    readonly host: string,
    readonly port: number,
    poolOptions: PoolOptions,
    now: number,
    /** The node it runs on when it is another node's replica (design §7); null for this node's own. */
    readonly node: string | null = null,
  ) {
    this.since = now;
    this.pool = new UpstreamPool(host, port, poolOptions);
    this.hostPort = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** A request was sent to it. */
  begin(): void {
    this.inFlight += 1;
  }

  /** A request it was sent is over (answered, failed or abandoned by its client). */
  end(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters.splice(0);
      for (const w of waiters) w();
    }
  }

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      const waiters = this.#idleWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  stopChecker(): void {
    this.checker?.stop();
    this.checker = null;
  }

  snapshot(): ReplicaRouting {
    return {
      ...(this.node !== null ? { node: this.node } : {}),
      index: this.index,
      host: this.host,
      port: this.port,
      state: this.state,
      since: this.since,
      reason: this.reason,
      inFlight: this.inFlight,
      tunnels: this.tunnels,
      idleConnections: this.pool.idleCount,
    };
  }
}
