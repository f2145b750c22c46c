/**
 * @module lifecycle/replica-adopt
 * Recovery after a daemon crash, for one replica: take over the process its record names when it
 * still runs (same pid and start time) — no restart, its log continues, its exit is watched by
 * polling. A stop that was under way goes on with what its journal says it had done; a readiness
 * wait resumes. A process that is gone counts as an exit with unknown status, and the restart
 * policy applies when the component is meant to run.
 */
import { isAlive } from "../process/index.js";
import type { DesiredState, ReplicaRecord } from "../store/records.js";
import type { CompiledComponent } from "../topology/types.js";
import { editionOf } from "./replica-context.js";
import { adoptedLeader, GONE, watchLeader, type Leader } from "./replica-leader.js";
import { LIVE_STATES, type ReplicaState } from "./replica-state.js";
import type { PhaseJournal } from "./replica-stop.js";
import type { StopResume } from "./stop-budget.js";

/** What adoption needs of its replica. */
export interface AdoptTarget {
  spec: CompiledComponent;
  record(): Readonly<ReplicaRecord>;
  setState(state: ReplicaState, patch?: Partial<ReplicaRecord>): void;
  /** Caught mid-start with no process recorded: `revive` starts it. */
  caughtStarting(): void;
  /** Make `leader` the replica's process (spawned when its record was last written). */
  take(leader: Leader): void;
  /** The edition the adopted process runs from. */
  runsFrom(edition: string | undefined): void;
  onLeaderExit(leader: Leader, exitCode: number | null, signal: string | null): void;
  terminateLeftovers(pgid: number): Promise<void>;
  /** Go on with an interrupted stop. */
  resumeStop(resume: StopResume, journal: PhaseJournal | undefined, final: "stopped" | "offline"): void;
  awaitReady(): void;
}

export interface Interrupted {
  resume?: StopResume;
  journal?: PhaseJournal;
}

export function adoptReplica(
  t: AdoptTarget,
  desired: DesiredState | undefined,
  interrupted?: Interrupted,
): "adopted" | "lost" | "none" {
  const { state, pid, startTime } = t.record();
  if (!LIVE_STATES.has(state)) return "none";
  if (pid === null || startTime === null) {
    // Caught between "starting" and a recorded spawn: nothing to take over. A process spawned in
    // that instant carries the orphan marker and is swept; `revive` starts the replica again.
    t.setState("crashed", { ...GONE, reason: "the daemon ended while it was starting" });
    t.caughtStarting();
    return "lost";
  }
  const leader = adoptedLeader(pid);
  t.take(leader);
  if (!isAlive(pid, startTime)) {
    leader.exited = true;
    if (desired === "running" && state !== "draining" && state !== "stopping")
      t.onLeaderExit(leader, null, null);
    else {
      const pgid = t.record().pgid;
      // The leader is gone; whatever it left in its group goes too.
      if (pgid !== null) void t.terminateLeftovers(pgid);
      t.setState("stopped", { ...GONE, reason: `pid ${pid} ended while no daemon watched it` });
    }
    return "lost";
  }
  t.runsFrom(editionOf(t.spec, pid));
  watchLeader(leader, startTime, (l, code, signal) => t.onLeaderExit(l, code, signal));
  if (state === "draining" || state === "stopping") {
    const resume = interrupted?.resume ?? { drainDone: state === "stopping", signalSentAt: null };
    // A maintenance stop ends offline, as the interrupted operation would have left it.
    const final = interrupted?.journal?.log.record.kind === "maintenance-on" ? "offline" : "stopped";
    t.resumeStop(resume, interrupted?.journal, final);
  } else if (state === "ready")
    t.setState("ready", { reason: `re-adopted (pid ${pid}) from the previous daemon` });
  else {
    t.setState("running", { reason: `re-adopted (pid ${pid}) before it was ready; readiness resumes` });
    t.awaitReady();
  }
  return "adopted";
}
