/**
 * @module edge/route
 * A route at run time: its compiled spec, its component in the routing table, its balancer and its
 * hold queue. When the component changes (a replica became routable, it went offline or online),
 * held requests are dispatched again, oldest first.
 */
import type { CompiledRoute } from "../topology/types.js";
import { createBalancer, type Balancer } from "./balancer.js";
import { HoldQueue } from "./hold.js";
import type { Matchable } from "./match.js";
import type { RoutedComponent } from "./routed-component.js";
import type { RoutedReplica } from "./routed-replica.js";

/** What the hold queue holds: a request that can be dispatched again or refused. */
export interface HeldRequest {
  heldUntil: number;
  held: boolean;
  dispatch(): void;
  /** The hold ran out: answer `503`. */
  holdExpired(): void;
  /** The edge is closing: answer `503 EDGE_CLOSING`. */
  refuseClosing(): void;
}

export class EdgeRoute implements Matchable {
  readonly host?: string;
  readonly path: string;
  readonly balancer: Balancer;
  readonly hold: HoldQueue<HeldRequest> | null;
  /** For messages: `:8080 /api → engine`. */
  readonly label: string;
  /** For the access log's `route` field: the host (when the route has one) and the path, `shop.example.com/api`. */
  readonly logLabel: string;
  readonly #unwatch: () => void;

  constructor(
    readonly spec: CompiledRoute,
    readonly component: RoutedComponent,
  ) {
    if (spec.host !== undefined) this.host = spec.host.toLowerCase();
    this.path = spec.path;
    this.balancer = createBalancer(spec.balance);
    this.hold = spec.hold
      ? new HoldQueue(spec.hold.timeoutMs, spec.hold.maxQueued, (r) => r.holdExpired())
      : null;
    this.label = `:${spec.listen}${spec.host ? ` ${spec.host}` : ""} ${spec.path} → ${spec.to}`;
    this.logLabel = `${spec.host ?? ""}${spec.path}`;
    this.#unwatch = component.watch(() => this.#onComponentChange());
  }

  /**
   * The replica for the next request: with `prefer: local`, among this node's routable replicas
   * while it has one, else among every node's.
   */
  pick(): RoutedReplica | undefined {
    const c = this.component;
    const local = this.spec.prefer === "local" && c.routableLocal.length > 0;
    return this.balancer.pick(local ? c.routableLocal : c.routable);
  }

  #onComponentChange(): void {
    const hold = this.hold;
    if (hold === null || hold.size === 0) return;
    if (this.component.routable.length === 0 && this.component.offline === null) return;
    for (const r of hold.takeAll()) r.dispatch();
  }

  /** Takes every held request out (the edge is closing). */
  takeHeld(): HeldRequest[] {
    return this.hold?.takeAll() ?? [];
  }

  dispose(): void {
    this.#unwatch();
    this.takeHeld();
  }
}
