/**
 * @module edge/routed-component
 * One component as the edge sees it: its replicas, the routable ones (kept as an array the
 * balancers read on every request), its offline flag and code, and the watchers told when that
 * changes (a route's hold releases its queue when a replica becomes routable).
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
  /** The replicas in state `in`, by index. Replaced (never mutated) on change. */
  routable: readonly RoutedReplica[] = [];
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
    const next = [...this.replicas.values()]
      .filter((r) => r.state === "in")
      .sort((a, b) => a.index - b.index);
    const prev = this.routable;
    if (next.length === prev.length && next.every((r, i) => r === prev[i])) return;
    this.routable = next;
    this.notify();
  }

  watch(watcher: ComponentWatcher): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  notify(): void {
    for (const w of [...this.#watchers]) w();
  }
}
