/**
 * @module edge/edge
 * The edge (design §5): one listener per distinct listen address and port of the topology's
 * routes, all reading one routing table.
 *
 * @example
 * const table = new RoutingTable(topology.components);
 * const edge = await Edge.start(topology.routes, topology.components, table);
 * table.setReplica("engine", 0, { port: 4100, ready: true });
 * // … on shutdown:
 * await edge.close();
 * table.close();
 */
import { DEFAULTS } from "../topology/defaults.js";
import type { CompiledListener, CompiledRoute } from "../topology/types.js";
import type { AccessLog } from "./access-log.js";
import { UnknownRouteTargetError } from "./errors.js";
import { ConnectionBudget } from "./limits.js";
import { EdgeListener, type ListenerOptions, type ListenerStats } from "./listener.js";
import type { EdgeComponent } from "./routed-component.js";
import { EdgeRoute } from "./route.js";
import type { RoutingTable } from "./routing-table.js";

export interface EdgeOptions extends Partial<
  Pick<ListenerOptions, "keepAliveTimeoutMs" | "headersTimeoutMs" | "requestTimeoutMs">
> {
  /** Each listener's limits (compiled topology's `edge.listeners`); one not named gets the defaults. */
  listeners?: readonly CompiledListener[];
  /** Client connections open at once over all listeners (the descriptor budget). @default unlimited */
  maxConnections?: number;
  /** Where every request is logged. @default none */
  accessLog?: AccessLog | null;
  /** How long `close()` lets in-flight requests finish. @default 5000 */
  closeTimeoutMs?: number;
  /** Listening sockets handed over by the previous daemon, by `address|port`. */
  inherited?: ReadonlyMap<string, number>;
}

export const EDGE_DEFAULTS = {
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: DEFAULTS.edge.headTimeoutMs,
  maxConnections: DEFAULTS.edge.maxConnections,
  maxConnectionsPerClient: DEFAULTS.edge.maxConnectionsPerClient,
  requestTimeoutMs: 300_000,
  closeTimeoutMs: 5_000,
} as const;

/** One bound listener, for status and tests. */
export interface EdgeAddress {
  address: string;
  /** The port bound (the route's `listen`, or the kernel's choice when it was 0). */
  port: number;
  routes: string[];
}

export class Edge {
  #closing: Promise<number> | undefined;

  private constructor(
    readonly listeners: readonly EdgeListener[],
    readonly routes: readonly EdgeRoute[],
    readonly closeTimeoutMs: number,
    readonly budget: ConnectionBudget,
  ) {}

  /**
   * Listens on every route's address and port. Components not yet in `table` are added.
   * @throws UnknownRouteTargetError when a route goes to a component not in `components`
   * @throws EdgeListenError when a port cannot be bound (nothing stays bound then)
   */
  static async start(
    routes: readonly CompiledRoute[],
    components: readonly EdgeComponent[],
    table: RoutingTable,
    options: EdgeOptions = {},
  ): Promise<Edge> {
    const names = new Set(components.map((c) => c.name));
    for (const c of components) if (!table.has(c.name)) table.addComponent(c);
    const groups = new Map<string, EdgeRoute[]>();
    const edgeRoutes: EdgeRoute[] = [];
    for (const spec of routes) {
      if (!names.has(spec.to) && !table.has(spec.to)) {
        throw new UnknownRouteTargetError(`route :${spec.listen} ${spec.path}`, spec.to);
      }
      const route = new EdgeRoute(spec, table.component(spec.to));
      edgeRoutes.push(route);
      const key = `${spec.address}|${spec.listen}`;
      const list = groups.get(key);
      if (list) list.push(route);
      else groups.set(key, [route]);
    }
    const budget = new ConnectionBudget(options.maxConnections);
    const listeners = [...groups.values()].map((list) => {
      const { address, listen } = (list[0] as EdgeRoute).spec;
      const own = options.listeners?.find((l) => l.address === address && l.port === listen);
      const listenerOptions: ListenerOptions = {
        keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? EDGE_DEFAULTS.keepAliveTimeoutMs,
        headersTimeoutMs: own?.headTimeoutMs ?? options.headersTimeoutMs ?? EDGE_DEFAULTS.headersTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs ?? EDGE_DEFAULTS.requestTimeoutMs,
        caps: {
          maxConnections: own?.maxConnections ?? EDGE_DEFAULTS.maxConnections,
          maxConnectionsPerClient: own?.maxConnectionsPerClient ?? EDGE_DEFAULTS.maxConnectionsPerClient,
        },
        budget,
        accessLog: options.accessLog ?? null,
      };
      return new EdgeListener(address, listen, list, table, listenerOptions);
    });
    const edge = new Edge(
      listeners,
      edgeRoutes,
      options.closeTimeoutMs ?? EDGE_DEFAULTS.closeTimeoutMs,
      budget,
    );
    const results = await Promise.allSettled(
      listeners.map((l) => l.listen(options.inherited?.get(`${l.address}|${l.port}`))),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await Promise.all(listeners.filter((l) => l.server.listening).map((l) => l.close(0)));
      for (const r of edgeRoutes) r.dispose();
      throw failed.reason;
    }
    return edge;
  }

  /** Where the edge listens. */
  get addresses(): EdgeAddress[] {
    return this.listeners.map((l) => ({
      address: l.address,
      port: l.boundPort,
      routes: l.routes.map((r) => r.label),
    }));
  }

  /** The listening sockets' descriptors by `address|port`, to hand to the next daemon. */
  listeningFds(): Map<string, number> {
    const fds = new Map<string, number>();
    for (const l of this.listeners) if (l.fd !== undefined) fds.set(`${l.address}|${l.port}`, l.fd);
    return fds;
  }

  /** What each listener counted (connections open, refused, head timeouts). */
  get stats(): ListenerStats[] {
    return this.listeners.map((l) => l.stats);
  }

  /** Requests being proxied now, over all listeners. */
  get active(): number {
    return this.listeners.reduce((n, l) => n + l.active, 0);
  }

  /**
   * Graceful shutdown: stop accepting, close idle client connections, answer held requests `503`,
   * let in-flight responses finish with `Connection: close`, then close everything left.
   * @returns requests cut because they outlived `timeoutMs`
   */
  close(timeoutMs = this.closeTimeoutMs): Promise<number> {
    this.#closing ??= (async () => {
      const cut = await Promise.all(this.listeners.map((l) => l.close(timeoutMs)));
      for (const r of this.routes) r.dispose();
      return cut.reduce((a, b) => a + b, 0);
    })();
    return this.#closing;
  }
}
