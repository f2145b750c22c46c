/**
 * @module topology/cluster
 * `cluster:` compiled once, with every default (design §11): heartbeat 1 s, 2 allowed misses,
 * primary lease 10 s, advertised address 127.0.0.1.
 */
import { createHash } from "node:crypto";
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
export function compileCluster(
  c: NonNullable<TopologyInput["cluster"]>,
  node: string,
  digest: string,
): CompiledCluster {
  return {
    node,
    digest,
    advertise: c.advertise ?? CLUSTER_DEFAULTS.advertise,
    heartbeatMs: c.heartbeat ?? CLUSTER_DEFAULTS.heartbeatMs,
    allowedMisses: c.allowed_misses ?? CLUSTER_DEFAULTS.allowedMisses,
    leaseMs: c.lease ?? CLUSTER_DEFAULTS.leaseMs,
    maxUnavailable: c.max_unavailable ?? CLUSTER_DEFAULTS.maxUnavailable,
    ...(c.nodes ? { nodes: c.nodes } : {}),
  };
}

/** What may differ between the nodes of one cluster without being drift. */
const NODE_LOCAL = { top: ["home", "store"], cluster: ["node", "advertise"] };

/**
 * The digest nodes compare to find **drift**: the topology file as written (before `${...}`, so
 * `${node}` and paths are alike on every node), keys in sorted order, without what is each node's
 * own (`home`, `store`, `cluster.node`, `cluster.advertise`).
 */
export function clusterDigest(data: unknown): string {
  const shared = isRecord(data) ? { ...data } : {};
  for (const k of NODE_LOCAL.top) delete shared[k];
  if (isRecord(shared.cluster)) {
    const cluster = { ...shared.cluster };
    for (const k of NODE_LOCAL.cluster) delete cluster[k];
    shared.cluster = cluster;
  }
  return createHash("sha256").update(canonical(shared)).digest("hex").slice(0, 16);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isRecord(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
