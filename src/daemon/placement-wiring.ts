/**
 * @module daemon/placement-wiring
 * Acts on `placement` (design §7) on a cluster node: a start runs only the replicas placed here
 * (`nodes: all` every one; a list only on the listed nodes; `nodes: any` the count the primary
 * assigned this node), and after each read of the placement table the node starts and stops
 * replicas to match, through the normal start and stop budget. A singleton is stopped when the
 * node self-fences (cluster/placement-agent), at once with SIGKILL when the fence comes late.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { PlacementAgent } from "../cluster/placement-agent.js";
import type { PlacedComponent } from "../cluster/placement-plan.js";
import { placementView, type ComponentPlacement } from "../cluster/placement-view.js";
import type { Supervisor } from "../lifecycle/supervisor.js";
import { LIVE_STATES } from "../lifecycle/replica-state.js";
import { signalGroup } from "../process/index.js";
import type { CompiledTopology } from "../topology/types.js";
import type { ClusterView } from "../cluster/types.js";
import type { DaemonCluster } from "./cluster-wiring.js";

/** The fence keeper (cluster/fence-keeper), beside the daemon in a group of its own; undefined when not built. */
function startKeeper(home: string, log: Log): ChildProcess | undefined {
  const file = fileURLToPath(new URL("../cluster/fence-keeper.js", import.meta.url));
  if (!existsSync(file)) {
    log("warn", `cluster: ${file} is missing: singletons are fenced by the daemon alone`);
    return undefined;
  }
  const keeper = spawn(process.execPath, [file, home], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    env: { PATH: process.env.PATH ?? "", STEWARD_HOME: home, STEWARD_FENCE_KEEPER: "1" },
  });
  keeper.on("error", (err) => log("warn", `cluster: the fence keeper failed: ${err.message}`));
  keeper.stdin?.on("error", () => undefined);
  keeper.unref();
  return keeper;
}

type Log = (level: "info" | "warn" | "error", message: string) => void;

export class DaemonPlacement {
  readonly agent: PlacementAgent | undefined;
  readonly #supervisor: Supervisor;
  readonly #node: string;
  readonly #log: Log;
  #keeper: ChildProcess | undefined;
  #singletonBudgetMs = 0;

  constructor(topology: CompiledTopology, cluster: DaemonCluster, supervisor: Supervisor, log: Log) {
    this.#supervisor = supervisor;
    this.#node = cluster.membership.node;
    this.#log = log;
    const anyOf = topology.components.filter((c) => c.placement?.nodes === "any");
    const components = anyOf.map((c): PlacedComponent => ({
      name: c.name,
      replicas: c.replicas,
      maxPerNode: c.placement!.maxPerNode,
      singleton: c.placement!.singleton,
      stopBudgetMs: c.drain.timeoutMs + c.stop.graceMs,
    }));
    supervisor.placed = (component, index) => this.#placed(component, index);
    if (components.length === 0 || topology.store.kind !== "postgres" || !topology.cluster) return;
    this.agent = new PlacementAgent({
      url: topology.store.url,
      cluster: topology.cluster,
      session: cluster.membership.session,
      primaryEpoch: () => cluster.membership.primaryEpoch(),
      components,
      changed: () => this.#reconcile(),
      fence: (late) => this.#fence(late),
      fencedWrite: (outcome) => cluster.membership.fencedWrite("placement", outcome),
      read: () => this.#guard(),
      log,
    });
    if (components.some((c) => c.singleton)) this.#keeper = startKeeper(topology.home, log);
    this.#singletonBudgetMs = Math.max(
      0,
      ...components.filter((c) => c.singleton).map((c) => c.stopBudgetMs),
    );
  }

  /** Tells the fence keeper until when this node's singleton groups may live without word from it. */
  #guard(): void {
    const keeper = this.#keeper;
    if (!keeper?.stdin || keeper.stdin.destroyed || !this.agent) return;
    const groups = this.#supervisor.components
      .filter((c) => c.spec.placement?.singleton)
      .flatMap((c) => c.replicas.filter((r) => LIVE_STATES.has(r.state)).map((r) => r.record.pgid))
      .filter((p): p is number => p !== null);
    const ms = Math.max(0, Math.round(this.agent.runUntil + this.#singletonBudgetMs - performance.now()));
    keeper.stdin.write(`${ms} ${groups.join(" ")}\n`);
  }

  #placed(component: string, index: number): boolean {
    const c = this.#supervisor.components.find((x) => x.spec.name === component)?.spec;
    const p = c?.placement;
    if (p === undefined || p.nodes === "all") return true;
    if (Array.isArray(p.nodes)) return p.nodes.includes(this.#node);
    return index < (this.agent?.count(component) ?? 0);
  }

  /** Start what is placed here and should run; stop what is no longer placed here. */
  #reconcile(): void {
    for (const { spec, replicas } of this.#supervisor.components) {
      if (spec.placement?.nodes !== "any") continue;
      const k = this.agent?.count(spec.name) ?? 0;
      const wanted = this.#supervisor.desired.get(spec.name) === "running";
      for (const r of replicas) {
        if (r.index >= k && (LIVE_STATES.has(r.state) || r.state === "backoff")) {
          this.#log(
            "info",
            `placement: ${spec.name}[${r.index}] is no longer placed on ${this.#node}: stopping it`,
          );
          void r.stop("not placed on this node any more").catch(() => undefined);
        } else if (r.index < k && wanted && (r.state === "stopped" || r.state === "killed")) {
          this.#log("info", `placement: ${spec.name}[${r.index}] is placed on ${this.#node}: starting it`);
          r.start().catch((err: unknown) =>
            this.#log("warn", `placement: ${spec.name}[${r.index}] did not start: ${String(err)}`),
          );
        }
      }
    }
  }

  /** Self-fence: every singleton replica stopped now; SIGKILLed at once when the fence is late. */
  #fence(late: boolean): void {
    for (const { spec, replicas } of this.#supervisor.components) {
      if (!spec.placement?.singleton) continue;
      for (const r of replicas) {
        if (!LIVE_STATES.has(r.state) && r.state !== "backoff") continue;
        const pgid = r.record.pgid;
        void r
          .stop(late ? "self-fenced late: killed at once" : "self-fenced: no heartbeat proven")
          .catch(() => undefined);
        if (late && pgid !== null) signalGroup(pgid, "SIGKILL");
      }
    }
  }

  /** Placement of every placed component as this node sees it (its own replicas only). */
  status(): ComponentPlacement[] {
    const mine = this.#supervisor.components.flatMap((c) =>
      c.replicas.map((r) => ({ component: c.spec.name, state: r.state })),
    );
    const table = this.agent?.table ?? new Map();
    const nodes = new Set<string>([this.#node]);
    for (const rows of table.values()) for (const n of rows.keys()) nodes.add(n);
    return placementView(
      this.#supervisor.components.map((c) => c.spec),
      table,
      [...nodes].map((name) => ({ name, state: "up" as const })),
      new Map([[this.#node, mine]]),
    ).map((p) => ({ ...p, perNode: p.perNode.filter((n) => n.node === this.#node) }));
  }

  /** Placement over the cluster, from `cluster status`'s view of every node and its replicas. */
  clusterView(view: ClusterView): ComponentPlacement[] {
    return placementView(
      this.#supervisor.components.map((c) => c.spec),
      this.agent?.table ?? new Map(),
      view.nodes,
      new Map(view.nodes.map((n) => [n.name, n.replicas ?? []])),
    );
  }

  async close(): Promise<void> {
    await this.agent?.close();
    // An orderly end: nothing left to guard (a next daemon adopts the replicas).
    this.#keeper?.stdin?.end("0\n");
  }
}
