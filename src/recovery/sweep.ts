/**
 * @module recovery/sweep
 * The orphan sweep: process groups a Steward daemon started that no live replica claims — found by
 * the marker in their environment (process/orphans) or named by a replica record of a component
 * the topology no longer declares — are reported and terminated through their component's stop
 * signal, grace and SIGKILL. Runs during recovery (before anything is started again, so an orphan
 * cannot hold a replica's port) and at the end of `down`: nothing survives `steward down`.
 */
import { findOrphans, isAlive, terminateGroup, type Claim } from "../process/index.js";
import type { ReplicaRecord } from "../store/records.js";
import type { CompiledTopology, StopSpec } from "../topology/types.js";

export interface SweepReport {
  /** Groups found, with what they were. */
  groups: { pgid: number; pids: number[]; component: string; replica: number | null; forced: boolean }[];
}

const DEFAULT_STOP: Pick<StopSpec, "signal" | "graceMs"> = { signal: "SIGTERM", graceMs: 30_000 };

export async function sweepOrphans(
  topology: CompiledTopology,
  claimed: Claim,
  unclaimedRecords: readonly ReplicaRecord[],
  report: (message: string) => void,
): Promise<SweepReport> {
  const found = findOrphans(topology.home, claimed);
  for (const r of unclaimedRecords) {
    if (r.pid === null || r.pgid === null || r.startTime === null) continue;
    if (!isAlive(r.pid, r.startTime) || found.some((g) => g.pgid === r.pgid)) continue;
    found.push({ pgid: r.pgid, pids: [r.pid], component: r.component, replica: r.index, command: "?" });
  }
  const groups = await Promise.all(
    found.map(async (g) => {
      const spec = topology.components.find((c) => c.name === g.component);
      const stop = spec?.stop ?? DEFAULT_STOP;
      const who = g.replica === null ? g.component : `${g.component}[${g.replica}]`;
      report(
        `orphan: process group ${g.pgid} (${who}, pid ${g.pids.join(", ")}: ${g.command}) is not a live replica: ` +
          `stopping it (${stop.signal}, grace ${stop.graceMs}ms)`,
      );
      const result = await terminateGroup(g.pgid, stop);
      return {
        pgid: g.pgid,
        pids: g.pids,
        component: g.component,
        replica: g.replica,
        forced: result.forced,
      };
    }),
  );
  return { groups };
}
