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

/** Binding every address: alike on every node, so no drift either. */
const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * The digest nodes compare to find **drift**: the topology file as written (before `${...}`, so
 * `${node}` and paths are alike on every node), keys in sorted order, without what is each node's
 * own (`home`, `store`, `cluster.node`, `cluster.advertise`). A route's `listen` keeps its port but
 * not its address when that address is the node's own advertised one or a wildcard (`0.0.0.0`,
 * `[::]`): each node's edge listens on its own address, so `127.0.0.1:8080` on n1 and
 * `127.0.0.2:8080` on n2 are the same route. Any other address is compared as written.
 */
export function clusterDigest(data: unknown): string {
  const shared = isRecord(data) ? { ...data } : {};
  for (const k of NODE_LOCAL.top) delete shared[k];
  let advertise: unknown = CLUSTER_DEFAULTS.advertise;
  if (isRecord(shared.cluster)) {
    const cluster = { ...shared.cluster };
    if (cluster.advertise !== undefined) advertise = cluster.advertise;
    for (const k of NODE_LOCAL.cluster) delete cluster[k];
    shared.cluster = cluster;
  }
  if (Array.isArray(shared.routes))
    shared.routes = shared.routes.map((r: unknown) =>
      isRecord(r) && r.listen !== undefined ? { ...r, listen: sharedListen(r.listen, advertise) } : r,
    );
  return createHash("sha256").update(canonical(shared)).digest("hex").slice(0, 16);
}

/** `listen` with the node's own (or a wildcard) address replaced by `<node>`, the port kept. */
function sharedListen(listen: unknown, advertise: unknown): unknown {
  if (typeof listen !== "string") return listen;
  const m = /^\s*(?:\[([^\]]+)\]|([^:\s]+)):(\S+)\s*$/.exec(listen);
  const address = m?.[1] ?? m?.[2];
  if (m === null || address === undefined) return listen;
  return address === advertise || WILDCARDS.has(address) ? `<node>:${m[3]}` : listen;
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
