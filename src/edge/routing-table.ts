/**
 * @module edge/routing-table
 * Which replica of which component may receive requests (design §5), fed by the daemon:
 * `setReplica` when a replica gets a port or becomes ready, `removeReplica` when it is gone,
 * `drain` at the head of its stop budget, `setOffline` when the component is deliberately stopped.
 * The edge reads it on every request and reports to it (in-flight counts, passive ejections).
 * In a cluster, `setRemoteReplicas` hands it the other nodes' replicas of a component (design §7):
 * they get the same active and passive health checks as this node's own.
 *
 * Every routing state change goes through one function that records `since` and `reason` and
 * tells the `onTransition` listeners (the daemon records them as `replica:routing` events).
 */
import { DEFAULTS } from "../topology/defaults.js";
import {
  HealthChecker,
  HealthCounter,
  connectProbe,
  defaultFactorySupports,
  defaultProbeFactory,
  type ProbeFactory,
  type ProbeTarget,
} from "./health.js";
import { RoutedComponent, type EdgeComponent } from "./routed-component.js";
import { RoutedReplica } from "./routed-replica.js";
import type {
  ComponentRouting,
  DrainOutcome,
  RemoteReplica,
  ReplicaEndpoint,
  RoutingState,
  RoutingTransition,
} from "./types.js";
import { POOL_DEFAULTS, type PoolOptions } from "./upstream/pool.js";

export interface RoutingTableOptions {
  /** Builds the health probe of a replica. @default tcp and http probes; `exec` needs the daemon's factory */
  probe?: ProbeFactory;
  /**
   * How a passively ejected replica of a component *without* health checks comes back: a TCP
   * connect every `intervalMs`, `rise` passes in a row. @default the health defaults, 1000 ms and 2
   */
  recovery?: { intervalMs: number; rise: number; timeoutMs: number };
  /** Keep-alive connections to replicas. @default idle 2000 ms, 256 idle per replica */
  pool?: Partial<PoolOptions>;
  /** `Retry-After` seconds while a component is offline, unless `setOffline` says otherwise. @default 10 */
  offlineRetryAfterS?: number;
}

export type TransitionListener = (t: RoutingTransition) => void;

export class RoutingTable {
  readonly #components = new Map<string, RoutedComponent>();
  readonly #listeners = new Set<TransitionListener>();
  readonly #probe: ProbeFactory;
  readonly #recovery: { intervalMs: number; rise: number; timeoutMs: number };
  readonly #pool: PoolOptions;
  readonly #offlineRetryAfterS: number;
  #closed = false;

  /**
   * @param components the topology's components (`CompiledComponent` fits)
   * @throws RangeError when a component's health check needs a probe factory that was not given
   */
  constructor(components: readonly EdgeComponent[] = [], options: RoutingTableOptions = {}) {
    this.#probe = options.probe ?? defaultProbeFactory;
    this.#recovery = options.recovery ?? {
      intervalMs: DEFAULTS.health.intervalMs,
      rise: DEFAULTS.health.rise,
      timeoutMs: DEFAULTS.health.timeoutMs,
    };
    this.#pool = { ...POOL_DEFAULTS, ...options.pool };
    this.#offlineRetryAfterS = options.offlineRetryAfterS ?? 10;
    for (const c of components) this.addComponent(c);
  }

  /** Registers a component (or updates its offline code and health spec). */
  addComponent(spec: EdgeComponent): RoutedComponent {
    if (spec.health && !defaultFactorySupports(spec.health) && this.#probe === defaultProbeFactory) {
      throw new RangeError(
        `${spec.name}: \`${spec.health.kind}\` health checks need a probe factory (RoutingTable option \`probe\`)`,
      );
    }
    const known = this.#components.get(spec.name);
    if (known) {
      known.spec = { ...spec };
      return known;
    }
    const c = new RoutedComponent({ ...spec });
    this.#components.set(spec.name, c);
    return c;
  }

  /** The component named `name`, registered on first use with its default offline code. */
  component(name: string): RoutedComponent {
    return (
      this.#components.get(name) ??
      this.addComponent({ name, offlineCode: `${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_OFFLINE` })
    );
  }

  has(name: string): boolean {
    return this.#components.has(name);
  }

  /**
   * Adds or updates a replica. Ready → routable (`in`) and health checks start; not ready →
   * `not-ready`. A new port is a new process: its state, pool and health start over. A replica
   * that is draining or `out` stays so until it is not ready once (or its port changes).
   * @example table.setReplica("engine", 0, { port: 4100, ready: true })
   */
  setReplica(component: string, index: number, endpoint: ReplicaEndpoint): void {
    const c = this.component(component);
    const host = endpoint.host ?? "127.0.0.1";
    let r = c.replicas.get(index);
    if (r && (r.port !== endpoint.port || r.host !== host)) {
      this.#retire(c, r);
      r = undefined;
    }
    if (!r) {
      r = new RoutedReplica(component, index, host, endpoint.port, this.#pool, Date.now());
      c.replicas.set(index, r);
      this.#emit({ component, index, from: null, to: "not-ready", reason: null, at: r.since });
    }
    r.ready = endpoint.ready;
    if (!endpoint.ready) {
      r.stopChecker();
      r.pool.setClosing(false);
      this.#transition(c, r, "not-ready", null);
    } else if (r.state === "not-ready") {
      r.pool.setClosing(false);
      this.#transition(c, r, "in", null);
      this.#startHealth(c, r);
    }
  }

  /**
   * The other nodes' replicas of `component`, all of them (those of `up` nodes, ready): a new one
   * enters routing at once and its health checks start; one no longer listed (its node is
   * `suspect`, `down` or `left`, or it stopped) leaves routing at once, its in-flight requests
   * finish. A listed replica that health checks or a refused connection took `out` stays out
   * until its checks pass.
   * @example table.setRemoteReplicas("web", [{ node: "n2", index: 0, host: "127.0.0.2", port: 4100 }])
   */
  setRemoteReplicas(component: string, replicas: readonly RemoteReplica[]): void {
    const c = this.component(component);
    const wanted = new Map(replicas.map((r) => [`${r.node}/${r.index}`, r]));
    for (const [key, r] of c.remote) {
      const w = wanted.get(key);
      if (!w || w.host !== r.host || w.port !== r.port) this.#retire(c, r);
    }
    for (const [key, w] of wanted) {
      if (c.remote.has(key)) continue;
      const r = new RoutedReplica(component, w.index, w.host, w.port, this.#pool, Date.now(), w.node);
      r.ready = true;
      c.remote.set(key, r);
      this.#emit({
        component,
        node: w.node,
        index: w.index,
        from: null,
        to: "not-ready",
        reason: null,
        at: r.since,
      });
      this.#transition(c, r, "in", null);
      this.#startHealth(c, r);
    }
  }

  /** Forgets a replica: no new requests; in-flight ones finish; idle connections close. */
  removeReplica(component: string, index: number): void {
    const c = this.#components.get(component);
    const r = c?.replicas.get(index);
    if (c && r) this.#retire(c, r);
  }

  /**
   * Drain (design §3, steps 1–2): stop routing new requests to the replica, wait until its
   * in-flight requests finish (at most `timeoutMs`), close its idle keep-alive connections.
   * The replica stays `draining` until `setReplica` says it is not ready, or it is removed.
   */
  async drain(component: string, index: number, timeoutMs: number): Promise<DrainOutcome> {
    const c = this.#components.get(component);
    const r = c?.replicas.get(index);
    if (!c || !r) return { waitedMs: 0, stillInFlight: 0 };
    const started = Date.now();
    r.stopChecker();
    this.#transition(c, r, "draining", null);
    r.pool.setClosing(true);
    await r.whenIdle(timeoutMs);
    r.pool.closeIdle();
    return { waitedMs: Date.now() - started, stillInFlight: r.inFlight };
  }

  /**
   * Takes a component offline (its routes answer `503` with `code` and `Retry-After`), or back
   * online with `null`.
   */
  setOffline(component: string, code: string | null, options: { retryAfterS?: number } = {}): void {
    const c = this.component(component);
    c.offline = code === null ? null : { code, retryAfterS: options.retryAfterS ?? this.#offlineRetryAfterS };
    c.notify();
  }

  /** Passive ejection: a refused or reset connection takes the replica out at once. */
  eject(replica: RoutedReplica, reason: string): void {
    const c = this.#components.get(replica.component);
    if (!c || replica.removed || replica.state !== "in") return;
    this.#transition(c, replica, "out", reason);
    replica.pool.closeIdle();
    if (replica.counter && replica.checker) {
      replica.counter.markDown();
      return;
    }
    // No active health checks: probe the port until it accepts `rise` connections in a row.
    const target = this.#target(replica);
    const counter = new HealthCounter(1, this.#recovery.rise);
    counter.markDown();
    const checker = new HealthChecker(
      connectProbe(target, this.#recovery.timeoutMs),
      this.#recovery.intervalMs,
      counter,
      (healthy) => {
        if (!healthy || replica.checker !== checker) return;
        replica.stopChecker();
        replica.counter = null;
        if (replica.state === "out") this.#transition(c, replica, "in", null);
      },
    );
    replica.counter = counter;
    replica.checker = checker;
    checker.start();
  }

  /** Every component and replica, for `status`. */
  snapshot(): ComponentRouting[] {
    return [...this.#components.values()].map((c) => ({
      component: c.name,
      offline: c.offline?.code ?? null,
      detectionMs: c.detectionMs,
      replicas: [...c.replicas.values()].sort((a, b) => a.index - b.index).map((r) => r.snapshot()),
      ...(c.remote.size > 0 ? { remote: c.remoteInOrder().map((r) => r.snapshot()) } : {}),
    }));
  }

  /** The replica `index` of `component`, if registered. */
  replica(component: string, index: number): RoutedReplica | undefined {
    return this.#components.get(component)?.replicas.get(index);
  }

  onTransition(listener: TransitionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops every health check and closes idle connections. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#components.values()) {
      for (const r of c.all()) {
        r.stopChecker();
        r.pool.dispose();
      }
    }
  }

  #retire(c: RoutedComponent, r: RoutedReplica): void {
    r.stopChecker();
    r.removed = true;
    r.pool.dispose();
    if (r.node === null) c.replicas.delete(r.index);
    else c.remote.delete(`${r.node}/${r.index}`);
    const from = r.state;
    c.refresh();
    this.#emit({ ...who(c, r), from, to: null, reason: "removed", at: Date.now() });
  }

  #startHealth(c: RoutedComponent, r: RoutedReplica): void {
    const spec = c.spec.health;
    if (!spec || this.#closed) return;
    const counter = new HealthCounter(spec.fall, spec.rise);
    const checker = new HealthChecker(
      this.#probe(spec, this.#target(r)),
      spec.intervalMs,
      counter,
      (healthy, detail) => {
        if (r.checker !== checker) return;
        if (!healthy && r.state === "in") this.#transition(c, r, "out", `health failed: ${detail}`);
        else if (healthy && r.state === "out") this.#transition(c, r, "in", null);
      },
    );
    r.counter = counter;
    r.checker = checker;
    checker.start();
  }

  #target(r: RoutedReplica): ProbeTarget {
    return { component: r.component, index: r.index, host: r.host, port: r.port };
  }

  /** The one place a replica's routing state changes. */
  #transition(c: RoutedComponent, r: RoutedReplica, to: RoutingState, reason: string | null): void {
    if (r.state === to && r.reason === reason) return;
    const from = r.state;
    r.state = to;
    r.reason = reason;
    r.since = Date.now();
    c.refresh();
    this.#emit({ ...who(c, r), from, to, reason, at: r.since });
  }

  #emit(t: RoutingTransition): void {
    for (const l of [...this.#listeners]) {
      try {
        l(t);
      } catch {
        // A listener's failure must not break routing.
      }
    }
  }
}

function who(c: RoutedComponent, r: RoutedReplica): { component: string; node?: string; index: number } {
  return r.node === null
    ? { component: c.name, index: r.index }
    : { component: c.name, node: r.node, index: r.index };
}
