/**
 * @module daemon/edge-wiring
 * Connects the edge (src/edge) to supervision: the routing table follows replica transitions
 * (running → not yet routable, ready → in routing, gone → removed), components taken offline answer
 * with their offline code, and the stop budget's first two steps drain a replica through the table.
 * Only components some route reaches are in the table. In a cluster, the other nodes' replicas of
 * those components are handed in after each heartbeat (`setRemote`). Created before adoption, so re-adopted
 * replicas enter routing as they are taken over.
 *
 * Limits: the edge's client connections, over all listeners, are capped so that the daemon's
 * descriptor limit minus `edge.reserved_fds` is never exceeded (edge/limits); refusals and head
 * timeouts are summed up in the daemon log every 10 s. The access log is
 * `<home>/logs/edge/access.log`.
 */
import { join } from "node:path";
import { AccessLog } from "../edge/access-log.js";
import { Edge, RoutingTable, type ComponentRouting, type RemoteReplica } from "../edge/index.js";
import { edgeConnectionBudget } from "../edge/limits.js";
import type { ListenerStats } from "../edge/listener.js";
import type { EventBus } from "../events/events.js";
import type { RoutingDrain } from "../lifecycle/stop-budget.js";
import type { Supervisor } from "../lifecycle/supervisor.js";
import { readNofileLimit } from "../process/nofile.js";
import type { CompiledTopology } from "../topology/types.js";
import { log } from "./log.js";

/** Replica states in which it has no process to route to. */
const GONE = new Set(["stopped", "killed", "crashed", "failed", "backoff", "offline"]);

/** How often refused connections and head timeouts are summed up in the daemon log. */
const REPORT_MS = 10_000;

export class DaemonEdge {
  readonly table: RoutingTable;
  readonly #topology: CompiledTopology;
  readonly #routed: Set<string>;
  #edge: Edge | undefined;
  #accessLog: AccessLog | null = null;
  #reporter: NodeJS.Timeout | undefined;
  #reported: ListenerStats[] = [];
  readonly #warned = new Set<string>();
  /** Replicas kept out of routing although ready: a cutover's new edition until `switchOver`. */
  readonly #standby = new Set<string>();

  /** Where this node's replicas are reached: in a cluster its advertised address (other nodes' edges reach them there too). */
  readonly #host: string;

  private constructor(topology: CompiledTopology) {
    this.#topology = topology;
    this.#host = topology.cluster?.advertise ?? "127.0.0.1";
    this.#routed = new Set(topology.routes.map((r) => r.to));
    this.table = new RoutingTable(topology.components.filter((c) => this.#routed.has(c.name)));
  }

  /** The edge of a topology with routes; undefined without any. */
  static create(topology: CompiledTopology): DaemonEdge | undefined {
    return topology.routes.length > 0 ? new DaemonEdge(topology) : undefined;
  }

  /**
   * Whether `component`'s replacement can start beside the replica it replaces: a route reaches it
   * and its replicas get their own `${port}` (lifecycle/rolling-restart).
   */
  surge = (component: string): boolean =>
    this.#routed.has(component) && this.#topology.components.some((c) => c.name === component && c.usesPort);

  /**
   * In a cluster: how long other nodes' edges may still send new requests to a replica after it
   * left `ready` here (they read this node's replicas once per heartbeat). 0 on a single node.
   */
  remoteLagMs: () => number = () => 0;

  /**
   * For the stop budget: the drain of a routed replica. In a cluster it also waits out the other
   * nodes' edges, which stop routing to it at their next heartbeat, not at once.
   */
  routing = (component: string, index: number): RoutingDrain | undefined =>
    this.#routed.has(component)
      ? {
          drain: async (timeoutMs) => {
            const lag = Math.min(this.remoteLagMs(), timeoutMs);
            const [local] = await Promise.all([
              this.table.drain(component, index, timeoutMs),
              new Promise((r) => setTimeout(r, lag)),
            ]);
            return { ...local, waitedMs: Math.max(local.waitedMs, lag) };
          },
        }
      : undefined;

  /** Keep the table in step with replica transitions; `offline` components answer their code. */
  follow(bus: EventBus, supervisor: () => Supervisor, warn: (m: string) => void): void {
    bus.subscribe(({ name, data }) => {
      if (!name.startsWith("replica:") || !("index" in data) || !this.#routed.has(data.component)) return;
      const { component, index, state } = data;
      const spec = this.#topology.components.find((c) => c.name === component)!;
      if (state === "offline") this.table.setOffline(component, spec.offlineCode);
      else if (state === "starting") this.table.setOffline(component, null);
      if (GONE.has(state)) return this.table.removeReplica(component, index);
      if (state !== "running" && state !== "ready") return;
      const port = supervisor().replica(component, index)?.servingPort;
      if (port === undefined) {
        if (!this.#warned.has(component))
          warn(
            `route to ${component}: the edge cannot tell which port its replicas serve on; use \`\${port}\` in its command or env, or a tcp or http readiness probe on its port`,
          );
        this.#warned.add(component);
        return;
      }
      const standby = this.#standby.has(`${component}\0${index}`);
      this.table.setReplica(component, index, {
        port,
        host: this.#host,
        ready: state === "ready" && !standby,
      });
    });
  }

  /** The components some route reaches. */
  get routedComponents(): string[] {
    return [...this.#routed];
  }

  /**
   * In a cluster, after each heartbeat: the other `up` nodes' ready replicas of the routed
   * components. Each component's list replaces the last (a node gone from it leaves routing).
   */
  setRemote(replicas: readonly (RemoteReplica & { component: string })[]): void {
    for (const component of this.#routed) {
      this.table.setRemoteReplicas(
        component,
        replicas.filter((r) => r.component === component),
      );
    }
  }

  /** Keep these replicas out of routing, even once ready, until `switchOver` or `release`. */
  standby(component: string, indices: readonly number[]): void {
    for (const i of indices) this.#standby.add(`${component}\0${i}`);
  }

  /** Forget standby marks (a rolled-back cutover's replicas are being stopped anyway). */
  release(component: string, indices: readonly number[]): void {
    for (const i of indices) this.#standby.delete(`${component}\0${i}`);
  }

  /**
   * The cutover's switch, in one synchronous step so no request sees a mix: every standby replica
   * of each component enters routing and every replica it replaces starts draining.
   */
  switchOver(
    moves: readonly { component: string; to: { index: number; port: number }[]; from: number[] }[],
  ): void {
    for (const { component, to, from } of moves) {
      if (!this.#routed.has(component)) continue;
      for (const { index, port } of to) {
        this.#standby.delete(`${component}\0${index}`);
        this.table.setReplica(component, index, { port, host: this.#host, ready: true });
      }
      for (const index of from) void this.table.drain(component, index, 0);
    }
  }

  /** Components maintenance keeps offline when the daemon starts. */
  markOffline(components: readonly string[]): void {
    for (const c of components) {
      const spec = this.#topology.components.find((x) => x.name === c);
      if (spec && this.#routed.has(c)) this.table.setOffline(c, spec.offlineCode);
    }
  }

  /**
   * Bind every route's port, or take over the listening sockets `inherited` from the previous
   * daemon. @throws EdgeListenError naming the port and its holder
   */
  async listen(inherited?: ReadonlyMap<string, number>): Promise<void> {
    const spec = this.#topology.edge;
    const limit = readNofileLimit();
    const maxConnections = edgeConnectionBudget(limit?.soft, spec.reservedFds);
    log(
      "info",
      limit === undefined
        ? "edge: the descriptor limit is unknown here; connections are capped per listener only"
        : `edge: at most ${maxConnections} client connections in all (descriptor limit ${limit.soft}, ${spec.reservedFds} reserved, 2 per connection)`,
    );
    if (spec.accessLog !== null) {
      this.#accessLog = await AccessLog.open(join(this.#topology.home, "logs", "edge", "access.log"), {
        rotate: spec.accessLog,
        warn: (m) => log("warn", m),
      });
    }
    try {
      this.#edge = await Edge.start(this.#topology.routes, this.#topology.components, this.table, {
        ...(inherited ? { inherited } : {}),
        listeners: spec.listeners,
        maxConnections,
        accessLog: this.#accessLog,
      });
    } catch (err) {
      await this.#accessLog?.close();
      throw err;
    }
    this.#reported = this.#edge.stats;
    this.#reporter = setInterval(() => this.#report(), REPORT_MS);
    this.#reporter.unref();
  }

  /** Connections refused and heads timed out since the last report, one line per listener. */
  #report(): void {
    const now = this.#edge?.stats ?? [];
    now.forEach((s, i) => {
      const before = this.#reported[i];
      if (before === undefined) return;
      const listener = s.refused.listener - before.refused.listener;
      const client = s.refused.client - before.refused.client;
      const descriptors = s.refused.descriptors - before.refused.descriptors;
      const heads = s.headTimeouts - before.headTimeouts;
      if (listener + client + descriptors + heads === 0) return;
      const l = this.#topology.edge.listeners.find((x) => `${x.address}:${x.port}` === s.listen);
      const parts = [
        client > 0 ? `${client} over the per-client cap (${l?.maxConnectionsPerClient})` : "",
        listener > 0 ? `${listener} over the listener's cap (${l?.maxConnections})` : "",
        descriptors > 0 ? `${descriptors} over the descriptor budget` : "",
      ].filter((p) => p !== "");
      log(
        "warn",
        `edge ${s.listen}: ${parts.length > 0 ? `refused ${parts.join(", ")}` : ""}${parts.length > 0 && heads > 0 ? "; " : ""}${heads > 0 ? `${heads} request head(s) timed out` : ""} in the last ${REPORT_MS / 1000} s (${s.connections} open)`,
      );
    });
    this.#reported = now;
  }

  /** The listening sockets, by `address|port`, for `daemon restart` to hand over. */
  listeningFds(): Map<string, number> {
    return this.#edge?.listeningFds() ?? new Map();
  }

  snapshot(): ComponentRouting[] {
    return this.table.snapshot();
  }

  async close(): Promise<void> {
    clearInterval(this.#reporter);
    await this.#edge?.close();
    await this.#accessLog?.close();
    this.table.close();
  }
}
