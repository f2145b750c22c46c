/**
 * @module topology/cluster
 * `cluster:` compiled once, with every default (design §11): heartbeat 1 s, 2 allowed misses,
 * primary lease 10 s, advertised address 127.0.0.1.
 */
import type { TopologyInput } from "./schema.js";
import type { CompiledCluster } from "./types.js";

export const CLUSTER_DEFAULTS = {
  advertise: "127.0.0.1",
  heartbeatMs: 1000,
  allowedMisses: 2,
  leaseMs: 10_000,
  maxUnavailable: 1,
} as const;

/** `node` is the name resolved by `resolveNodeName()` (./node-name.ts), already checked. */
export function compileCluster(c: NonNullable<TopologyInput["cluster"]>, node: string): CompiledCluster {
  return {
    node,
    advertise: c.advertise ?? CLUSTER_DEFAULTS.advertise,
    heartbeatMs: c.heartbeat ?? CLUSTER_DEFAULTS.heartbeatMs,
    allowedMisses: c.allowed_misses ?? CLUSTER_DEFAULTS.allowedMisses,
    leaseMs: c.lease ?? CLUSTER_DEFAULTS.leaseMs,
    maxUnavailable: c.max_unavailable ?? CLUSTER_DEFAULTS.maxUnavailable,
    ...(c.nodes ? { nodes: c.nodes } : {}),
  };
}
