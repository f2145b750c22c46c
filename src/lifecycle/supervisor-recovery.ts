/**
 * @module lifecycle/supervisor-recovery
 * The supervisor's part of recovery after a daemon crash, over every component: re-adopt the
 * replicas whose processes outlived the previous daemon (a replica caught mid-stop continues its
 * stop under the interrupted operation's journal; a replaced one still draining is retired), start
 * again what was caught mid-start or in backoff, and say which processes the orphan sweep must
 * leave alone.
 */
import type { Claim } from "../process/index.js";
import type { OperationLog } from "../recovery/journal.js";
import type { DesiredState } from "../store/records.js";
import type { CompiledComponent } from "../topology/types.js";
import type { Replica } from "./replica.js";
import type { Interrupted } from "./replica-adopt.js";
import type { ReplicaSlots } from "./replica-slots.js";
import { LIVE_STATES } from "./replica-state.js";

/** A component's replicas, as the supervisor holds them. */
export interface RecoveringComponent {
  spec: CompiledComponent;
  replicas: Replica[];
  slots: ReplicaSlots;
}

/** Re-adopt every replica whose process outlived the previous daemon (see `Replica.adopt`). */
export function adoptAll(
  components: readonly RecoveringComponent[],
  desired: ReadonlyMap<string, DesiredState>,
  interrupted: readonly OperationLog[],
): { adopted: number; lost: number } {
  const counts = { adopted: 0, lost: 0 };
  for (const { spec, replicas, slots } of components) {
    for (const replica of replicas) {
      const outcome = replica.adopt(desired.get(spec.name), interruptedStop(interrupted, replica));
      if (outcome !== "none") counts[outcome] += 1;
    }
    // A replaced replica still draining, or a replacement left unfinished: retire it.
    for (const replica of slots.retiring) {
      const resumed = interruptedStop(interrupted, replica);
      const outcome = replica.adopt("stopped", resumed);
      if (outcome !== "none") counts[outcome] += 1;
      void replica
        .stop("retired: a replacement the previous daemon left unfinished", resumed?.journal)
        .finally(() => slots.retired(replica));
    }
  }
  return counts;
}

/** After the orphan sweep: start what should run but was caught mid-start or in backoff. */
export function reviveAll(
  components: readonly RecoveringComponent[],
  desired: ReadonlyMap<string, DesiredState>,
): number {
  let revived = 0;
  for (const { spec, replicas } of components)
    for (const replica of replicas) if (replica.revive(desired.get(spec.name))) revived += 1;
  return revived;
}

/**
 * What the orphan sweep must leave alone: a process in a live replica's group, or marked as
 * belonging to a live replica (a child that left its group with setsid still belongs to it).
 */
export function claimsOf(components: readonly RecoveringComponent[]): Claim {
  const pgids = new Set<number>();
  const live = new Set<string>();
  for (const { slots } of components)
    for (const r of slots.all) {
      if (r.record.pgid !== null) pgids.add(r.record.pgid);
      if (LIVE_STATES.has(r.state)) live.add(`${r.component}\0${r.index}`);
    }
  return (p) => pgids.has(p.pgid) || live.has(`${p.component}\0${p.replica}`);
}

/** The latest interrupted operation that journaled a stop step of `replica`, and how far it got. */
function interruptedStop(logs: readonly OperationLog[], replica: Replica): Interrupted | undefined {
  for (const log of [...logs].reverse()) {
    const resume = log.stopResume(replica.component, replica.index);
    if (!resume) continue;
    const phase = log.record.plan.findIndex(
      (p) => (p.action === "stop" || p.action === "replace") && p.components.includes(replica.component),
    );
    return { resume, journal: phase < 0 ? undefined : { log, phase } };
  }
  return undefined;
}
