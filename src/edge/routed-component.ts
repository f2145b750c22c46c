/**
 * @module edge/routed-component
 * One component as the edge sees it: its replicas, the routable ones (kept as an array the
 * balancers read on every request), its offline flag and code, and the watchers told when that
 * changes (a route's hold releases its queue when a replica becomes routable). In a cluster it also
 * holds the other nodes' replicas (`remote`, by `node/index`): `routable` is this node's routable
 * replicas followed by theirs, and `routableLocal` only this node's (for `prefer: local`).
 */
import type { HealthSpec } from "../topology/types.js";
import type { RoutedReplica } from "./routed-replica.js";

/** What the routing table needs to know about a component. */
export interface EdgeComponent {
  name: string;
  /** The code answered while the component is offline (`ENGINE_OFFLINE`). */
  offlineCode: string;
  /** Active health checks; passive detection only when absent. */
  health?: HealthSpec;
}

export interface OfflineState {
  code: string;
  /** Seconds for `Retry-After`. */
  retryAfterS: number;
}

export type ComponentWatcher = () => void;

export class RoutedComponent {
  readonly replicas = new Map<number, RoutedReplica>();
  /** Other nodes' replicas, by `node/index`. */
  readonly remote = new Map<string, RoutedReplica>();
  /** The replicas in state `in`: this node's by index, then other nodes' by node and index. Replaced (never mutated) on change. */
  routable: readonly RoutedReplica[] = [];
  /** This node's replicas in state `in`. Replaced (never mutated) on change. */
  routableLocal: readonly RoutedReplica[] = [];
  offline: OfflineState | null = null;
  readonly #watchers = new Set<ComponentWatcher>();

  constructor(public spec: EdgeComponent) {}

  get name(): string {
    return this.spec.name;
  }

  /** Seconds a client should wait after `NO_HEALTHY_REPLICA`: the least time a replica needs to come back. */
  get noHealthyRetryAfterS(): number {
    const h = this.spec.health;
    return h ? Math.max(1, Math.ceil((h.intervalMs * h.rise) / 1000)) : 1;
  }

  /** Health interval × fall, or null without active health checks. */
  get detectionMs(): number | null {
    const h = this.spec.health;
    return h ? h.intervalMs * h.fall : null;
  }

  /** Rebuilds `routable`; tells the watchers when it changed. */
  refresh(): void {
    const local = [...this.replicas.values()]
      .filter((r) => r.state === "in")
      .sort((a, b) => a.index - b.index);
    const remote = [...this.remote.values()].filter((r) => r.state === "in").sort(byNodeThenIndex);
    const next = remote.length === 0 ? local : [...local, ...remote];
    const prev = this.routable;
    if (next.length === prev.length && next.every((r, i) => r === prev[i])) return;
    this.routable = next;
    this.routableLocal = remote.length === 0 ? next : local;
    this.notify();
  }

  /** Other nodes' replicas in a stable order (node, then index), for routing and for `status`. */
  remoteInOrder(): RoutedReplica[] {
    return [...this.remote.values()].sort(byNodeThenIndex);
  }

  /** Every replica this edge knows of, this node's and other nodes'. */
  all(): RoutedReplica[] {
    return [...this.replicas.values(), ...this.remote.values()];
  }

  watch(watcher: ComponentWatcher): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  notify(): void {
    for (const w of [...this.#watchers]) w();
  }
}

function byNodeThenIndex(a: RoutedReplica, b: RoutedReplica): number {
  if (a.node === b.node) return a.index - b.index;
  return (a.node ?? "") < (b.node ?? "") ? -1 : 1;
}
