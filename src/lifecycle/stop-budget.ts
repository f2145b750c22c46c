/**
 * @module lifecycle/stop-budget
 * The stop budget of one replica (design §3) as an explicit sequence of named steps, always in
 * this order: drain hook → stop signal to the process group → grace → SIGKILL of the whole group.
 * The edge (issue 4) inserts "stop routing" and "wait in-flight" at the head; the operation
 * journal (issue 3) records each step before and after it runs through `onStep`.
 */
import { runHook, signalGroup, waitGroupExit } from "../process/index.js";
import type { CommandSpec } from "../topology/types.js";

export type StopStepName = "drain-hook" | "signal" | "grace" | "kill";

export interface HookEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

/** Everything a step needs; steps write their findings into `outcome`. */
export interface StopBudgetContext {
  pgid: number;
  signal: NodeJS.Signals;
  graceMs: number;
  drain: { command?: CommandSpec; timeoutMs: number };
  /** Where and with which environment hooks run (built only when a hook runs). */
  hookEnv: () => HookEnv;
  /** Resolves when the group leader has exited (with its exit code, when known). */
  leaderExit: Promise<{ exitCode: number | null; signal: string | null }>;
  outcome: StopOutcome;
}

export interface StopOutcome {
  forced: boolean;
  /** Notes for the operator, e.g. `drain hook exited with code 7`. */
  notes: string[];
  steps: { name: StopStepName; ms: number }[];
}

export interface StopStep {
  name: StopStepName;
  /** The replica state while this step runs. */
  state: "draining" | "stopping";
  run(ctx: StopBudgetContext): Promise<void>;
}

/** How long to wait for the kernel to reap a SIGKILLed group before reporting it. */
const KILL_SETTLE_MS = 5_000;

const drainHook: StopStep = {
  name: "drain-hook",
  state: "draining",
  async run(ctx) {
    if (!ctx.drain.command) return;
    const result = await runHook({
      command: ctx.drain.command,
      timeoutMs: ctx.drain.timeoutMs,
      ...ctx.hookEnv(),
    });
    if (result.timedOut) ctx.outcome.notes.push(`drain hook timed out after ${ctx.drain.timeoutMs}ms`);
    else if (result.exitCode !== 0)
      ctx.outcome.notes.push(
        `drain hook exited with ${result.exitCode ?? result.signal ?? "unknown status"}`,
      );
  },
};

const signal: StopStep = {
  name: "signal",
  state: "stopping",
  async run(ctx) {
    signalGroup(ctx.pgid, ctx.signal);
  },
};

const grace: StopStep = {
  name: "grace",
  state: "stopping",
  async run(ctx) {
    // The leader's exit arrives as an event (no polling); most groups are empty with it.
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ctx.leaderExit, new Promise((r) => (timer = setTimeout(r, ctx.graceMs)))]);
    clearTimeout(timer);
    const empty = await waitGroupExit(ctx.pgid, Math.max(0, ctx.graceMs - (Date.now() - started)));
    if (!empty) ctx.outcome.forced = true;
  },
};

const kill: StopStep = {
  name: "kill",
  state: "stopping",
  async run(ctx) {
    if (!ctx.outcome.forced) return;
    signalGroup(ctx.pgid, "SIGKILL");
    ctx.outcome.notes.push(`grace of ${ctx.graceMs}ms expired: SIGKILL sent to process group ${ctx.pgid}`);
    if (!(await waitGroupExit(ctx.pgid, KILL_SETTLE_MS)))
      ctx.outcome.notes.push(`process group ${ctx.pgid} still has members after SIGKILL`);
  },
};

/** The steps in order. Issue 4 prepends `stop-routing` and `wait-in-flight`. */
export const STOP_STEPS: readonly StopStep[] = [drainHook, signal, grace, kill];

/** Run every step in order; `onStep` is called before each (state changes, journal). */
export async function runStopBudget(
  ctx: StopBudgetContext,
  onStep: (step: StopStep) => void,
  steps: readonly StopStep[] = STOP_STEPS,
): Promise<StopOutcome> {
  for (const step of steps) {
    onStep(step);
    const started = Date.now();
    await step.run(ctx);
    ctx.outcome.steps.push({ name: step.name, ms: Date.now() - started });
  }
  return ctx.outcome;
}
