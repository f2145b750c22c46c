/**
 * @module daemon/boot
 * What a booting daemon concludes from the record its predecessor left: the instance count
 * (100 at first boot, +1 after each crash, reset by an orderly shutdown), and what to do with
 * replicas of a crashed daemon that no component claims any more (the topology changed): they are
 * stopped through their stop signal and grace. Claimed ones are re-adopted (`Supervisor.adoptAll`).
 */
import { isAlive, terminateGroup } from "../process/index.js";
import type { DaemonRecord, ReplicaRecord } from "../store/records.js";
import type { CompiledTopology } from "../topology/types.js";

export function bootRecord(previous: DaemonRecord | undefined, topologyFile: string): DaemonRecord {
  const crashed = previous?.state === "active";
  const now = Date.now();
  return {
    state: "active",
    pid: process.pid,
    instance: crashed ? previous.instance + 1 : 100,
    bootKind: crashed ? "recovered" : "clean",
    bootedAt: now,
    topologyFile,
    updatedAt: now,
  };
}

export async function sweepLeftovers(
  records: ReplicaRecord[],
  topology: CompiledTopology,
  warn: (message: string) => void,
): Promise<void> {
  await Promise.all(
    records.map(async (r) => {
      if (r.pid === null || r.pgid === null || r.startTime === null || !isAlive(r.pid, r.startTime)) return;
      const spec = topology.components.find((c) => c.name === r.component);
      const stop = spec?.stop ?? { signal: "SIGTERM" as const, graceMs: 30_000 };
      warn(`${r.component}[${r.index}] (pid ${r.pid}) outlived the previous daemon: stopping it`);
      await terminateGroup(r.pgid, stop);
    }),
  );
}
