/**
 * @module lifecycle/stop-budget
 * The stop budget of one replica (design §3) as an explicit sequence of named steps, always in
 * this order: stop routing → wait for in-flight requests (both bounded by the drain timeout, only
 * when a route reaches the component) → drain hook → stop signal to the process group → grace →
 * SIGKILL of the whole group. The operation
 * journal records each step before it runs (the step waits for that write) and after it finishes,
 * so a daemon that crashed mid-stop resumes with the remaining budget (`StopResume`).
 */
import { runHook, signalGroup, waitGroupExit } from "../process/index.js";
import type { CommandSpec } from "../topology/types.js";

export type StopStepName = "stop-routing" | "wait-in-flight" | "drain-hook" | "signal" | "grace" | "kill";

/** The edge's side of a replica's stop (design §3 steps 1–2); absent when no route reaches it. */
export interface RoutingDrain {
  /** Stop routing new requests to the replica and wait (at most `timeoutMs`) for in-flight ones. */
  drain(timeoutMs: number): Promise<{ waitedMs: number; stillInFlight: number }>;
}

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
  /** When the stop signal went out: set by the `signal` step, or carried over by a resume. */
  signalSentAt: number | null;
  /** Set by a resume whose journal says the drain hook finished. */
  drainDone: boolean;
  /** The edge's drain of this replica, when a route reaches its component. */
  routing?: RoutingDrain;
  /** Started by `stop-routing`, awaited by `wait-in-flight`. */
  inFlight?: Promise<{ waitedMs: number; stillInFlight: number }>;
  outcome: StopOutcome;
}

/** What an interrupted stop had done, from its journal: a resume skips it and counts grace from the signal. */
export interface StopResume {
  drainDone: boolean;
  signalSentAt: number | null;
}

/** Called around each step that runs; `before` may return the journal's write, which the step awaits. */
export interface StopHooks {
  before(step: StopStep): Promise<void> | void;
  after(step: StopStep, detail: string | null): void;
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
  /** True when there is nothing for this step to do (no hook, already done before a crash, …). */
  skip(ctx: StopBudgetContext): boolean;
  /** Runs the step; returns a short note for the journal, or null. */
  run(ctx: StopBudgetContext): Promise<string | null>;
}

/** How long to wait for the kernel to reap a SIGKILLed group before reporting it. */
const KILL_SETTLE_MS = 5_000;

/** A resumed stop past its drain has nothing to do here: a new edge has no request in flight. */
const routed = (ctx: StopBudgetContext): boolean =>
  ctx.routing !== undefined && !ctx.drainDone && ctx.signalSentAt === null;

const stopRouting: StopStep = {
  name: "stop-routing",
  state: "draining",
  skip: (ctx) => !routed(ctx),
  async run(ctx) {
    ctx.inFlight = ctx.routing!.drain(ctx.drain.timeoutMs);
    return "no new requests";
  },
};

const waitInFlight: StopStep = {
  name: "wait-in-flight",
  state: "draining",
  skip: (ctx) => !routed(ctx) || ctx.inFlight === undefined,
  async run(ctx) {
    const { waitedMs, stillInFlight } = await ctx.inFlight!;
    if (stillInFlight === 0) return `in-flight requests done after ${waitedMs}ms`;
    const note = `${stillInFlight} request(s) still in flight after the drain timeout of ${ctx.drain.timeoutMs}ms`;
    ctx.outcome.notes.push(note);
    return note;
  },
};

const drainHook: StopStep = {
  name: "drain-hook",
  state: "draining",
  skip: (ctx) => !ctx.drain.command || ctx.drainDone || ctx.signalSentAt !== null,
  async run(ctx) {
    if (!ctx.drain.command) return null;
    const result = await runHook({
      command: ctx.drain.command,
      timeoutMs: ctx.drain.timeoutMs,
      ...ctx.hookEnv(),
    });
    let note: string | null = null;
    if (result.timedOut) note = `drain hook timed out after ${ctx.drain.timeoutMs}ms`;
    else if (result.exitCode !== 0)
      note = `drain hook exited with ${result.exitCode ?? result.signal ?? "unknown status"}`;
    if (note) ctx.outcome.notes.push(note);
    return note;
  },
};

const signal: StopStep = {
  name: "signal",
  state: "stopping",
  skip: (ctx) => ctx.signalSentAt !== null,
  async run(ctx) {
    ctx.signalSentAt = Date.now();
    signalGroup(ctx.pgid, ctx.signal);
    return `${ctx.signal} to process group ${ctx.pgid}`;
  },
};

const grace: StopStep = {
  name: "grace",
  state: "stopping",
  skip: () => false,
  async run(ctx) {
    // Grace counts from the signal, also across a daemon crash: a resumed stop gets what is left.
    const deadline = (ctx.signalSentAt ?? Date.now()) + ctx.graceMs;
    // The leader's exit arrives as an event (no polling); most groups are empty with it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ctx.leaderExit,
      new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    const empty = await waitGroupExit(ctx.pgid, Math.max(0, deadline - Date.now()));
    if (!empty) ctx.outcome.forced = true;
    return empty ? "process group exited" : "grace expired";
  },
};

const kill: StopStep = {
  name: "kill",
  state: "stopping",
  skip: (ctx) => !ctx.outcome.forced,
  async run(ctx) {
    signalGroup(ctx.pgid, "SIGKILL");
    ctx.outcome.notes.push(`grace of ${ctx.graceMs}ms expired: SIGKILL sent to process group ${ctx.pgid}`);
    if (await waitGroupExit(ctx.pgid, KILL_SETTLE_MS)) return `SIGKILL to process group ${ctx.pgid}`;
    const note = `process group ${ctx.pgid} still has members after SIGKILL`;
    ctx.outcome.notes.push(note);
    return note;
  },
};

/** The steps in order (design §3). */
export const STOP_STEPS: readonly StopStep[] = [stopRouting, waitInFlight, drainHook, signal, grace, kill];

/** Run every step that has something to do, in order, with `hooks` around each (state changes, journal). */
export async function runStopBudget(
  ctx: StopBudgetContext,
  hooks: StopHooks,
  steps: readonly StopStep[] = STOP_STEPS,
): Promise<StopOutcome> {
  for (const step of steps) {
    if (step.skip(ctx)) continue;
    await hooks.before(step);
    const started = Date.now();
    const detail = await step.run(ctx);
    ctx.outcome.steps.push({ name: step.name, ms: Date.now() - started });
    hooks.after(step, detail);
  }
  return ctx.outcome;
}
