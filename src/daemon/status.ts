/**
 * @module daemon/status
 * The status document served by `GET /v1/status` and printed by `steward status [--json]`.
 */
import type { Supervisor } from "../lifecycle/supervisor.js";
import type { DaemonRecord, ExitRecord } from "../store/records.js";
import type { RecoverySummary } from "./daemon.js";
import type { ComponentRouting } from "../edge/index.js";
import type { MembershipStatus } from "../cluster/types.js";

export interface ReplicaStatus {
  index: number;
  state: string;
  pid: number | null;
  port: number | null;
  restarts: number;
  invalidated: boolean;
  reason: string | null;
  lastExit: ExitRecord | null;
  /** When the replica entered its current state (epoch ms). */
  since: number;
  logFile: string;
}

export interface StatusDocument {
  name: string;
  daemon: {
    /** `recovering` after a crash until replicas are re-adopted and interrupted operations resumed. */
    state: "recovering" | "active" | "stopping";
    pid: number;
    instance: number;
    bootKind: DaemonRecord["bootKind"];
    bootedAt: number;
    topology: string;
    /** Digest of the topology file as the daemon loaded it. */
    topologyDigest: string;
    home: string;
    store: string;
    /** After a `recovered` or `handover` boot: what the daemon took over and did. */
    recovery?: RecoverySummary;
  };
  components: { name: string; replicas: ReplicaStatus[] }[];
  /** The edge's view of each routed component, when the topology has routes. */
  routing?: ComponentRouting[];
  /** The newest patch session, when the topology has `patching` and one was seen. */
  patching?: PatchingStatus;
  /** This node's membership, on a cluster node (`steward status` prints one line of it). */
  cluster?: MembershipStatus;
}

export interface PatchingStatus {
  session: number;
  kind: "cycle" | "fs-clone";
  status: string;
  /** Each phase run so far and its state. */
  phases: Record<string, string>;
  /** The phase to run next. */
  next: string;
}

export function statusOf(
  supervisor: Supervisor,
  topologyDigest: string,
  daemon: DaemonRecord,
  state: "recovering" | "active" | "stopping",
  store: string,
  recovery?: RecoverySummary,
  routing?: ComponentRouting[],
  patching?: PatchingStatus,
): StatusDocument {
  return {
    name: supervisor.topology.name,
    daemon: {
      state,
      pid: daemon.pid,
      instance: daemon.instance,
      bootKind: daemon.bootKind,
      bootedAt: daemon.bootedAt,
      topology: supervisor.topology.file,
      topologyDigest,
      home: supervisor.topology.home,
      store,
      ...(recovery ? { recovery } : {}),
    },
    components: supervisor.components.map((c) => ({
      name: c.spec.name,
      replicas: c.slots.all.map((r) => {
        const rec = r.record;
        return {
          index: rec.index,
          state: rec.state,
          pid: rec.pid,
          port: rec.port,
          restarts: rec.restarts,
          invalidated: rec.invalidated,
          reason: rec.reason,
          lastExit: rec.lastExit,
          since: rec.updatedAt,
          logFile: r.logFile,
        };
      }),
    })),
    ...(routing ? { routing } : {}),
    ...(patching ? { patching } : {}),
  };
}
