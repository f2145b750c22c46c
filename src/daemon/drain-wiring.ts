/**
 * @module daemon/drain-wiring
 * `steward cluster drain|undrain NODE` on a cluster node: asking and following (cluster/drain-control,
 * any node), and this node's own part when it is the one drained (cluster/node-drain), run through
 * the daemon's `stop` and `start` — the same path, journal and stop budgets as `steward stop|start`.
 */
import pg from "pg";
import { DrainControl, type DrainKind, type DrainLine } from "../cluster/drain-control.js";
import type { DrainedComponent } from "../cluster/drain-check.js";
import { clusterClientConfig, type Membership } from "../cluster/membership.js";
import { NodeDrain } from "../cluster/node-drain.js";
import type { CompiledTopology } from "../topology/types.js";

type Log = (level: "info" | "warn" | "error", message: string) => void;

export class DaemonDrains {
  readonly control: DrainControl;
  readonly node: NodeDrain;
  readonly #pool: pg.Pool;

  constructor(control: DrainControl, node: NodeDrain, pool: pg.Pool) {
    this.control = control;
    this.node = node;
    this.#pool = pool;
  }

  /** Checks and writes the request; throws (nothing written) when refused. */
  ask(kind: DrainKind, target: string): Promise<void> {
    return this.control.ask(kind, target);
  }

  /** Follows the drained node until done; `send` gets each line. */
  follow(kind: DrainKind, target: string, send: (line: DrainLine) => void): Promise<DrainLine> {
    return this.control.follow(kind, target, send);
  }

  async close(): Promise<void> {
    this.node.close();
    await this.#pool.end().catch(() => undefined);
  }
}

export function joinDrains(
  topology: CompiledTopology,
  url: string,
  membership: Membership,
  log: Log,
): DaemonDrains {
  const cluster = topology.cluster!;
  const pool = new pg.Pool({ ...clusterClientConfig(url, cluster), max: 2, idleTimeoutMillis: 10_000 });
  pool.on("error", () => undefined);
  const components = topology.components.map((c): DrainedComponent => ({
    name: c.name,
    minAvailable: c.minAvailable,
    placement: c.placement?.nodes === "any" ? "any" : "fixed",
    replicas: c.replicas,
    maxPerNode: c.placement?.maxPerNode ?? c.replicas,
  }));
  // The longest a replica placed elsewhere may take to be ready: its readiness window, plus a stop budget's slack.
  const within = Math.max(10_000, ...topology.components.map((c) => (c.ready?.withinMs ?? 0) + 10_000));
  const node = new NodeDrain({
    pool,
    membership,
    placed: topology.components
      .filter((c) => c.placement?.nodes === "any" && !c.placement.singleton)
      .map((c) => ({ name: c.name, replicas: c.replicas })),
    placedWithinMs: within,
    log,
  });
  return new DaemonDrains(new DrainControl(pool, membership, components), node, pool);
}
