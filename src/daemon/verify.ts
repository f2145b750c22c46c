/**
 * @module daemon/verify
 * `steward verify` (design §3): does what should run run, and is what should be stopped or offline
 * stopped? Checked against the processes themselves (`/proc`: pid and start time, group members),
 * not only the records, and the orphan sweep's finder reports any process of this home that no
 * replica claims.
 */
import type { Supervisor } from "../lifecycle/supervisor.js";
import { findOrphans, groupMembers, isAlive } from "../process/index.js";
import type { StateStore } from "../store/state-store.js";

export interface VerifyDifference {
  component: string;
  /** The replica, or null for something about the component as a whole (an orphan). */
  index: number | null;
  expected: string;
  actual: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Components maintenance took offline. */
  maintenance: string[] | null;
  /** Replicas checked. */
  checked: number;
  differences: VerifyDifference[];
}

export async function verify(
  supervisor: Supervisor,
  store: Pick<StateStore, "listComponents" | "readMaintenance">,
): Promise<VerifyReport> {
  const desired = new Map((await store.listComponents()).map((c) => [c.name, c.desired]));
  const maintenance = await store.readMaintenance();
  const differences: VerifyDifference[] = [];
  let checked = 0;
  for (const { spec, replicas } of supervisor.components) {
    // What the last operation on the component asked for; maintenance `on` asked for offline, and
    // a later `start` or `restart` of the component wins over it.
    const want =
      desired.get(spec.name) ?? (maintenance?.components.includes(spec.name) ? "offline" : "stopped");
    for (const r of replicas) {
      checked += 1;
      const { pid, startTime, pgid, state } = r.record;
      const alive = pid !== null && startTime !== null && isAlive(pid, startTime);
      const members = pgid === null ? [] : groupMembers(pgid);
      const actual = `${state}${alive ? ` (pid ${pid})` : members.length > 0 ? ` (group ${pgid}: ${members.join(", ")})` : ", no process"}`;
      const diff = (expected: string): void => {
        differences.push({ component: spec.name, index: r.index, expected, actual });
      };
      if (want === "running") {
        if (r.completed) continue; // a one-shot that exited 0 did what it should
        const healthy = alive && (state === "ready" || (state === "running" && !spec.ready));
        if (!healthy) diff("running and ready");
      } else if (alive || members.length > 0) diff(`${want}, no process`);
      else if (want === "offline" && state !== "offline" && state !== "killed") diff("offline");
    }
  }
  const orphans = findOrphans(supervisor.topology.home, supervisor.claims());
  for (const o of orphans)
    differences.push({
      component: o.component,
      index: o.replica,
      expected: "no process outside a live replica",
      actual: `orphan process group ${o.pgid} (pid ${o.pids.join(", ")}: ${o.command})`,
    });
  return { ok: differences.length === 0, maintenance: maintenance?.components ?? null, checked, differences };
}
