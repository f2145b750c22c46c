/**
 * @module process/orphans
 * Finds processes a Steward daemon started that no replica claims any more: every replica (and
 * every hook) runs with `STEWARD_HOME=<home>` and `STEWARD_COMPONENT=<name>` in its environment,
 * which its children inherit. A process carrying this home's marker that the caller does not claim
 * (its group is not a live replica's, nor is the replica its marker names live) is an **orphan** —
 * left by a crash mid-spawn, by a replica whose leader died while no daemon watched it, or by a
 * component removed from the topology. Linux: `/proc/<pid>/environ`.
 */
import { readFileSync } from "node:fs";
import { allPids, groupMembers, readCommandLine, readStat } from "./proc.js";

export interface OrphanGroup {
  pgid: number;
  /** Live (non-zombie) members, ascending. */
  pids: number[];
  /** `STEWARD_COMPONENT` / `STEWARD_REPLICA` of the first member, for the report. */
  component: string;
  replica: number | null;
  /** The first member's command line. */
  command: string;
}

/** The environment variables every replica and hook is started with. */
export function markerEnv(home: string, component: string, replica: number): Record<string, string> {
  return { STEWARD_HOME: home, STEWARD_COMPONENT: component, STEWARD_REPLICA: String(replica) };
}

/** The environment variables every job run is started with (`job:<name>` in orphan reports). */
export function jobMarkerEnv(home: string, job: string, run: string): Record<string, string> {
  return { STEWARD_HOME: home, STEWARD_JOB: job, STEWARD_RUN: run };
}

function markerOf(pid: number): { home: string; component: string; replica: number | null } | undefined {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return undefined; // gone, or not ours to read
  }
  let home: string | undefined;
  let component: string | undefined;
  let replica: number | null = null;
  for (const entry of environ.split("\0")) {
    if (entry.startsWith("STEWARD_HOME=")) home = entry.slice(13);
    else if (entry.startsWith("STEWARD_COMPONENT=")) component = entry.slice(18);
    else if (entry.startsWith("STEWARD_REPLICA=")) replica = Number(entry.slice(16));
    else if (entry.startsWith("STEWARD_JOB=")) component ??= `job:${entry.slice(12)}`;
  }
  return home !== undefined && component !== undefined ? { home, component, replica } : undefined;
}

/** Whether a marked process belongs to something live: decided by the daemon. */
export type Claim = (process: { pgid: number; component: string; replica: number | null }) => boolean;

/**
 * Process groups holding a live process marked with `home` that `claimed` does not claim. The
 * calling daemon's own group is never reported.
 */
export function findOrphans(home: string, claimed: Claim): OrphanGroup[] {
  const groups = new Map<number, OrphanGroup>();
  const own = readStat(process.pid)?.pgrp;
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const stat = readStat(pid);
    if (!stat || stat.state === "Z" || stat.state === "X" || stat.pgrp === own) continue;
    const marker = markerOf(pid);
    if (!marker || marker.home !== home) continue;
    if (claimed({ pgid: stat.pgrp, component: marker.component, replica: marker.replica })) continue;
    const group = groups.get(stat.pgrp);
    if (group) group.pids.push(pid);
    else
      groups.set(stat.pgrp, {
        pgid: stat.pgrp,
        pids: [pid],
        component: marker.component,
        replica: marker.replica,
        command: readCommandLine(pid) ?? "?",
      });
  }
  return [...groups.values()].sort((a, b) => a.pgid - b.pgid);
}

/**
 * True when process group `pgid` still has a live member carrying `home`'s marker: a recorded group
 * is only ever signalled after this check, so a pgid reused by another program is left alone.
 */
export function isMarkedGroup(pgid: number, home: string): boolean {
  return groupMembers(pgid).some((pid) => markerOf(pid)?.home === home);
}
