/**
 * @module daemon/reseed-wiring
 * Re-seeding on a cluster node (cluster/reseed), when a component has `reseed`: after the
 * supervisor has adopted what outlived the previous daemon, the reseeds this node owes are found,
 * and every replica launch passes the component's debt first.
 */
import type { Supervisor } from "../lifecycle/supervisor.js";
import type { CompiledTopology } from "../topology/types.js";
import type { Reseeds } from "../cluster/reseed.js";
import type { DaemonCluster } from "./cluster-wiring.js";

/** Replica states of a process that outlived its daemon (adopted). */
const ALIVE = new Set(["running", "ready", "draining", "stopping"]);

/** Undefined when no component has `reseed` (nothing is loaded or connected then). */
export async function attachReseeds(
  topology: CompiledTopology,
  cluster: DaemonCluster,
  supervisor: Supervisor,
  log: (level: "info" | "warn" | "error", message: string) => void,
): Promise<Reseeds | undefined> {
  const c = topology.cluster;
  if (c === undefined || topology.store.kind !== "postgres") return undefined;
  if (!topology.components.some((x) => x.reseed !== undefined)) return undefined;
  const [{ Reseeds }, { clusterClientConfig }, { default: pg }] = await Promise.all([
    import("../cluster/reseed.js"),
    import("../cluster/membership.js"),
    import("pg"),
  ]);
  const db = new pg.Pool({
    ...clusterClientConfig(topology.store.url, c),
    max: 1,
    idleTimeoutMillis: 10_000,
  });
  db.on("error", () => undefined);
  const { membership } = cluster;
  const alive = (component: string): boolean =>
    supervisor.components.some(
      (r) => r.spec.name === component && r.replicas.some((x) => ALIVE.has(x.state)),
    );
  try {
    const reseeds = await Reseeds.attach(
      {
        node: membership.node,
        home: topology.home,
        components: topology.components,
        db,
        membership,
        heartbeatMs: c.heartbeatMs,
        log,
      },
      membership.awayMs,
      alive,
    );
    supervisor.beforeStart = (component, signal, env) => reseeds.gate(component, signal, env);
    return reseeds;
  } catch (err) {
    await db.end().catch(() => undefined);
    throw new Error(
      `cluster: cannot read or record this node's reseeds in the store (${(err as Error).message}); the daemon does not start, so that no component starts on data a reseed should replace; check that the database answers and start it again`,
      { cause: err },
    );
  }
}
