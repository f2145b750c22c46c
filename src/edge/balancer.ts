/**
 * @module edge/balancer
 * How a route picks one of its component's routable replicas: `round-robin` (each in turn) or
 * `least-conn` (the fewest in-flight requests; ties go round-robin so equal replicas share the
 * load). One balancer per route; it reads the component's `routable` array, which the routing
 * table replaces on every change.
 */
import type { RoutedReplica } from "./routed-replica.js";

export type BalanceName = "round-robin" | "least-conn";

export interface Balancer {
  /** A replica from `replicas` (routable, non-empty or not), or undefined when there is none. */
  pick(replicas: readonly RoutedReplica[]): RoutedReplica | undefined;
}

export class RoundRobin implements Balancer {
  #next = 0;

  pick(replicas: readonly RoutedReplica[]): RoutedReplica | undefined {
    const n = replicas.length;
    if (n === 0) return undefined;
    if (this.#next >= n) this.#next = 0;
    return replicas[this.#next++];
  }
}

export class LeastConn implements Balancer {
  #next = 0;

  pick(replicas: readonly RoutedReplica[]): RoutedReplica | undefined {
    const n = replicas.length;
    if (n === 0) return undefined;
    if (this.#next >= n) this.#next = 0;
    const start = this.#next++;
    let best = replicas[start] as RoutedReplica;
    for (let k = 1; k < n && best.inFlight > 0; k++) {
      const r = replicas[(start + k) % n] as RoutedReplica;
      if (r.inFlight < best.inFlight) best = r;
    }
    return best;
  }
}

export function createBalancer(name: BalanceName): Balancer {
  return name === "least-conn" ? new LeastConn() : new RoundRobin();
}
