/**
 * @module cluster/errors
 * Errors of cluster mode (STW-50xx).
 */
import { StewardError } from "../errors.js";

/** Who holds a node name now, as the store says. */
export interface NodeHolder {
  node: string;
  pid: number;
  advertise: string;
  hostname: string;
  home: string;
  /** Milliseconds since its last heartbeat, by the database's clock. */
  heartbeatAgeMs: number;
}

/** A second daemon claims the name of a node whose daemon is alive. Nothing was written. */
export class NodeNameTakenError extends StewardError {
  constructor(holder: NodeHolder) {
    super(
      "STW-5001",
      `node name \`${holder.node}\` is taken by a live daemon: pid ${holder.pid} on ${holder.hostname} ` +
        `(advertises ${holder.advertise}, home ${holder.home}), last heartbeat ${holder.heartbeatAgeMs} ms ago; ` +
        "give this node another name (`steward up --node NAME`, STEWARD_NODE or `cluster.node`), " +
        "or stop that daemon first",
      { httpStatus: 409, details: { ...holder } },
    );
  }
}

/** The shared cluster tables could not be reached or set up at boot. */
export class ClusterStoreError extends StewardError {
  constructor(location: string, problem: string, cause?: unknown) {
    super(
      "STW-5002",
      `cluster: the store ${location} could not be used for membership: ${problem}; ` +
        "a cluster node cannot start without registering; check that the database runs and accepts connections",
      { httpStatus: 503, details: { location, problem }, cause },
    );
  }
}

/** `steward cluster …` on a daemon whose topology has no `cluster:` section. */
export class NotInClusterError extends StewardError {
  constructor(file: string) {
    super(
      "STW-5003",
      `${file} has no \`cluster:\` section: this daemon is not a cluster node; ` +
        "add `cluster: {}` and a `store: postgres://…` shared by every node",
      { httpStatus: 409, details: { file } },
    );
  }
}

/** A rolling operation that could not keep a component's `min_available` from the start. Nothing was asked. */
export class RollingRefusedError extends StewardError {
  constructor(kind: string, node: string, reason: string) {
    super(
      "STW-5004",
      `${kind} --cluster refused: ${reason} (counted over the cluster before anything restarts, ` +
        `for node ${node}); start more replicas, lower \`min_available\`, or restart that node's components yourself`,
      { httpStatus: 409, details: { kind, node, reason } },
    );
  }
}

/** `steward cluster drain|undrain` of a node the cluster does not have. Nothing was asked. */
export class UnknownNodeError extends StewardError {
  constructor(node: string, known: string[]) {
    super(
      "STW-5005",
      `no node \`${node}\` in the cluster; its nodes are ${known.join(", ") || "(none)"} (see \`steward cluster status\`)`,
      { httpStatus: 404, details: { node, known } },
    );
  }
}

/** A drain or undrain that cannot be done as asked (with the numbers). Nothing was asked. */
export class DrainRefusedError extends StewardError {
  constructor(kind: "drain" | "undrain", node: string, reason: string) {
    super("STW-5006", `cluster ${kind} ${node} refused: ${reason}`, {
      httpStatus: 409,
      details: { kind, node, reason },
    });
  }
}

/** A cluster patch phase while a node's topology differs from the primary's. Nothing was asked. */
export class PatchDriftError extends StewardError {
  constructor(phase: string, drifted: string[], primary: string) {
    super(
      "STW-5009",
      `patch ${phase} refused: ${drifted.join(", ")} ${drifted.length === 1 ? "is" : "are"} in drift (topology differs from the primary ${primary}'s); make the topology files the same on every node, restart those daemons (\`steward daemon restart\`), then run it again — \`steward cluster status\` shows DRIFT`,
      { httpStatus: 409, details: { phase, drifted, primary } },
    );
  }
}

/** A cluster patch phase asked before the one before it completed on every node. Nothing was asked. */
export class PatchPhaseRefusedError extends StewardError {
  constructor(phase: string, reason: string) {
    super("STW-5010", `patch ${phase} refused: ${reason}`, { httpStatus: 409, details: { phase, reason } });
  }
}
