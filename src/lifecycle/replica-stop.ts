/**
 * @module lifecycle/replica-stop
 * One replica through its stop budget (lifecycle/stop-budget): each step journaled under the
 * operation that asked for the stop, continued from what an interrupted stop had done, and the
 * replica's end state recorded — `final` (`stopped`, or `offline` for maintenance), or `killed`
 * (invalidated) when its group had to be SIGKILLed.
 */
import { formatMs } from "../process/index.js";
import type { ExitRecord, ReplicaRecord } from "../store/records.js";
import type { CommandSpec, CompiledComponent } from "../topology/types.js";
import type { OperationLog } from "../recovery/journal.js";
import { GONE, type Leader } from "./replica-leader.js";
import { LIVE_STATES, type ReplicaState } from "./replica-state.js";
import {
  runStopBudget,
  type HookEnv,
  type RoutingDrain,
  type StopBudgetContext,
  type StopResume,
} from "./stop-budget.js";

/** The journaled operation a start or stop belongs to, and which phase of its plan. */
export interface PhaseJournal {
  log: OperationLog;
  phase: number;
}

/** What the stop needs of its replica; `record` is read afresh at each step. */
export interface StopTarget {
  component: string;
  index: number;
  spec: CompiledComponent;
  record(): Readonly<ReplicaRecord>;
  leader: Leader | undefined;
  spawnedAt(): number;
  routing: RoutingDrain | undefined;
  drainCommand(): CommandSpec | undefined;
  hookEnv(): HookEnv;
  setState(state: ReplicaState, patch?: Partial<ReplicaRecord>): void;
  /** Wake the replica's start() callers. */
  settle(): void;
}

export interface StopRequest {
  reason: string;
  journal: PhaseJournal | undefined;
  final: "stopped" | "offline";
  /** What an interrupted stop had done before a daemon crash. */
  resume: StopResume | undefined;
}

/** Resolves with the exit record, or null when nothing was running. */
export async function stopReplica(t: StopTarget, req: StopRequest): Promise<ExitRecord | null> {
  const { reason, journal, final, resume } = req;
  const { state, pgid } = t.record();
  const leader = t.leader;
  if (!LIVE_STATES.has(state) || pgid === null || !leader) {
    if (
      state === "backoff" ||
      state === "crashed" ||
      state === "failed" ||
      // The last operation asked says which: maintenance (offline) or a stop (stopped).
      (final === "offline" && state === "stopped") ||
      (final === "stopped" && state === "offline")
    )
      t.setState(final, { reason: `${reason} (was ${state})` });
    t.settle();
    return null;
  }
  const { spec } = t;
  const ctx: StopBudgetContext = {
    pgid,
    signal: spec.stop.signal,
    graceMs: spec.stop.graceMs,
    drain: { ...spec.drain, command: t.drainCommand() },
    hookEnv: () => t.hookEnv(),
    leaderExit: leader.exit,
    signalSentAt: resume?.signalSentAt ?? null,
    drainDone: resume?.drainDone ?? false,
    routing: t.routing,
    outcome: { forced: false, notes: [], steps: [] },
  };
  const steps = new Map<string, { end(status: "done", detail: string | null): void }>();
  const outcome = await runStopBudget(ctx, {
    before: async (step) => {
      if (t.record().state !== step.state) t.setState(step.state, { reason });
      if (!journal) return;
      const target = { phase: journal.phase, name: step.name, component: t.component, index: t.index };
      steps.set(step.name, await journal.log.begin(target, `pid ${leader.pid}`));
    },
    after: (step, detail) => steps.get(step.name)?.end("done", detail),
  });
  const exit = await leader.exit;
  const lastExit: ExitRecord = {
    exitCode: exit.exitCode,
    signal: exit.signal,
    reason: [reason, ...outcome.notes].join("; "),
    forced: outcome.forced,
    durationMs: Date.now() - t.spawnedAt(),
    at: Date.now(),
  };
  t.setState(outcome.forced ? "killed" : final, {
    ...GONE,
    lastExit,
    invalidated: outcome.forced || t.record().invalidated,
    reason: outcome.forced
      ? `invalidated: the group did not exit within ${formatMs(ctx.graceMs)} and was killed; \`recover\` runs before the next start`
      : outcome.notes.length > 0
        ? outcome.notes.join("; ")
        : null,
  });
  t.settle();
  return lastExit;
}
