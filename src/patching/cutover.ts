/**
 * @module patching/cutover
 * The cutover (design §6): the patch edition becomes the run edition, journaled step by step as an
 * operation of kind `cutover`, so a daemon killed at any step finishes or rolls back:
 *
 * 1. `wait-jobs` — new job runs are refused; runs in progress are waited for (bounded; then
 *    cancelled, or the cutover is refused with nothing changed);
 * 2. `start-new` — per `switch` component, a replica per slot starts from the patch edition beside
 *    the old one, kept out of routing, and must become ready;
 * 3. `restart-on-new` — `restart` components stop (dependants first) and start on the patch
 *    edition (dependencies first), each until ready;
 * 4. `switch` — **the commit point**: journaled with the new replicas' indices *before* routing
 *    moves to all of them in one synchronous step;
 * 5. `retire-old` — the old replicas drain and stop through their stop budget;
 * 6. `swap-links` — `run` and `patch` change places (rename(2), fsync);
 * then held jobs are released.
 *
 * A failure before step 4 rolls back (`rollback`): the new replicas stop (they never served), the
 * `restart` components start again on the old edition, the links stay. A crash before step 4 rolls
 * back the same way when the next daemon resumes; after it, the cycle rolls forward. So the old
 * edition serves until the switch and the new one after it: never both, never none.
 * `--no-restart` stops every component of the edition instead, swaps the links, and leaves them
 * stopped for manual steps.
 */
import type { Replica } from "../lifecycle/replica.js";
import { LIVE_STATES } from "../lifecycle/replica-state.js";
import type { ComponentRuntime, Supervisor } from "../lifecycle/supervisor.js";
import { formatMs } from "../process/index.js";
import type { OperationLog } from "../recovery/journal.js";
import type { CutoverPlanRecord } from "../store/records.js";
import { switchedIndices } from "./cutover-plan.js";

/** The editions as the cutover sees them. */
export interface CutoverEditions {
  /** Real directory of the edition serving now (the old one). */
  runDir: string;
  /** Real directory of the edition that becomes run. */
  patchDir: string;
  /** Make the patch edition the run edition; does nothing when the links already say so. */
  promote(): Promise<void>;
}

/** What the edge must do (daemon/edge-wiring's DaemonEdge), when there is one. */
export interface CutoverRouting {
  standby(component: string, indices: readonly number[]): void;
  release(component: string, indices: readonly number[]): void;
  switchOver(
    moves: readonly { component: string; to: { index: number; port: number }[]; from: number[] }[],
  ): void;
}

export interface CutoverJobs {
  /** Refuse new runs; wait for runs in progress (cancel or throw when they outlast the limit). */
  quiesce(): Promise<void>;
  /** Let jobs run again. */
  release(): void;
}

export interface CutoverDeps {
  supervisor: Supervisor;
  routing: CutoverRouting | undefined;
  editions: CutoverEditions;
  jobs: CutoverJobs;
  progress: (message: string) => void;
  /**
   * A cluster's commit point (`--strategy together`): called once the new replicas are ready and
   * before the switch; resolves to a reason to roll back, or undefined to switch.
   */
  commit?: (() => Promise<string | undefined>) | undefined;
}

export type CutoverOutcome =
  | { result: "completed"; ms: number }
  | { result: "stopped"; ms: number }
  | { result: "rolled-back"; reason: string; ms: number };

const PHASE = 0;

/** Run a cutover journaled under `log` (kind `cutover`, one phase with action `cutover`). */
export async function runCutover(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
  opts: { noRestart?: boolean } = {},
): Promise<CutoverOutcome> {
  const t0 = Date.now();
  const wait = await log.begin({ phase: PHASE, name: "wait-jobs", component: "*" });
  try {
    await deps.jobs.quiesce();
  } catch (err) {
    wait.end("failed", (err as Error).message);
    deps.jobs.release();
    throw err;
  }
  wait.end("done", null);
  if (opts.noRestart) return stopForManualSteps(log, plan, deps, t0);
  const live = leaveStoppedAlone(plan, deps);
  const fresh = new Map<string, Replica[]>();
  for (const { name, mode } of live.components) {
    if (mode !== "switch") continue;
    const error = await startNew(log, runtime(deps, name), deps, fresh);
    if (error) return rollback(log, live, deps, fresh, error, t0);
  }
  const error = await restartOnNew(log, live, deps);
  if (error) return rollback(log, live, deps, fresh, error, t0);
  if (deps.commit) {
    deps.progress("new replicas ready; waiting for the cluster's commit point");
    const refused = await deps.commit();
    if (refused !== undefined) return rollback(log, live, deps, fresh, refused, t0);
  }
  await switchOver(log, deps, fresh);
  return finish(log, live, deps, t0);
}

/**
 * Finish a cutover a previous daemon left half-done: forward when its journal has the switch
 * (the new replicas were preferred at adoption, the old ones are being retired), else roll back.
 */
export async function resumeCutover(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
  opts: { noRestart?: boolean } = {},
): Promise<CutoverOutcome> {
  const t0 = Date.now();
  if (opts.noRestart) return stopForManualSteps(log, plan, deps, t0);
  if (switchedIndices(log.previous)) return finish(log, plan, deps, t0);
  return rollback(log, plan, deps, new Map(), `the daemon stopped during the cutover, before the switch`, t0);
}

async function startNew(
  log: OperationLog,
  { spec, slots }: ComponentRuntime,
  deps: CutoverDeps,
  fresh: Map<string, Replica[]>,
): Promise<string | undefined> {
  const step = await log.begin({ phase: PHASE, name: "start-new", component: spec.name });
  const replicas: Replica[] = [];
  for (let slot = 0; slot < spec.replicas; slot += 1) {
    await slots.settle(slot);
    replicas.push(slots.alternate(slot));
  }
  fresh.set(spec.name, replicas);
  deps.routing?.standby(
    spec.name,
    replicas.map((r) => r.index),
  );
  deps.progress(
    `${spec.name}: starting ${replicas.map(label).join(", ")} from the new edition, beside the old`,
  );
  const error = await startAll(replicas, deps.editions.patchDir);
  if (error) {
    step.end("failed", error);
    return error;
  }
  deps.progress(`${spec.name}: ${replicas.length} new replica(s) ready, not yet routed`);
  step.end("done", replicas.map(label).join(", "));
  return undefined;
}

async function restartOnNew(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
): Promise<string | undefined> {
  const restarts = plan.components.filter((c) => c.mode === "restart").map((c) => runtime(deps, c.name));
  for (const { spec, replicas } of [...restarts].reverse()) {
    deps.progress(`${spec.name}: stopping, to start again on the new edition`);
    await Promise.all(
      replicas.map((r) => r.stop("cutover: restarting on the new edition", { log, phase: PHASE })),
    );
  }
  for (const { spec, replicas } of restarts) {
    const step = await log.begin({ phase: PHASE, name: "restart-on-new", component: spec.name });
    const error = await startAll(replicas, deps.editions.patchDir);
    if (error) {
      step.end("failed", error);
      return error;
    }
    deps.progress(`${spec.name}: ready on the new edition`);
    step.end("done", null);
  }
  return undefined;
}

/** The commit point: journal which replicas serve from now on, then move routing in one step. */
async function switchOver(
  log: OperationLog,
  deps: CutoverDeps,
  fresh: Map<string, Replica[]>,
): Promise<void> {
  const detail = JSON.stringify(Object.fromEntries([...fresh].map(([c, rs]) => [c, rs.map((r) => r.index)])));
  const step = await log.begin({ phase: PHASE, name: "switch", component: "*" }, detail);
  const moves = [...fresh].map(([component, replicas]) => {
    const { slots } = runtime(deps, component);
    const from = replicas.map((r, slot) => slots.promote(slot, r).index);
    const to = replicas.map((r) => ({ index: r.index, port: r.record.port ?? 0 }));
    return { component, to, from };
  });
  deps.routing?.switchOver(moves);
  deps.progress(
    `switched: ${moves.map((m) => `${m.component} → ${m.to.map((t) => t.index).join(", ")}`).join("; ") || "nothing routed"}`,
  );
  step.end("done", detail);
}

/** After the switch: retire the old replicas, swap the links, release jobs. Idempotent. */
async function finish(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
  t0: number,
): Promise<CutoverOutcome> {
  for (const { name, mode } of plan.components) {
    if (mode !== "switch") continue;
    const { spec, slots } = runtime(deps, name);
    const old = [...slots.retiring];
    if (old.length === 0) continue;
    const step = await log.begin({ phase: PHASE, name: "retire-old", component: name });
    deps.progress(`${name}: draining and stopping the old edition's ${old.map(label).join(", ")}`);
    await Promise.all(
      old.map((r) =>
        r.stop("cutover: replaced by the new edition", { log, phase: PHASE }).finally(() => slots.retired(r)),
      ),
    );
    for (let slot = 0; slot < spec.replicas; slot += 1) await slots.settle(slot);
    step.end("done", old.map(label).join(", "));
  }
  const swap = await log.begin({ phase: PHASE, name: "swap-links", component: "*" });
  await deps.editions.promote();
  swap.end("done", `run → ${deps.editions.patchDir}`);
  deps.jobs.release();
  deps.progress(`cutover complete in ${formatMs(Date.now() - t0)}: the new edition is the run edition`);
  return { result: "completed", ms: Date.now() - t0 };
}

/** Before the switch: the old edition keeps serving; nothing of the new one is left running. */
async function rollback(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
  fresh: Map<string, Replica[]>,
  reason: string,
  t0: number,
): Promise<CutoverOutcome> {
  const step = await log.begin({ phase: PHASE, name: "rollback", component: "*" }, reason);
  deps.progress(`rolling back: ${reason}`);
  for (const [component, replicas] of fresh) {
    const { slots } = runtime(deps, component);
    await Promise.all(
      replicas.map((r) => r.stop("cutover rolled back", { log, phase: PHASE }).finally(() => slots.left(r))),
    );
    deps.routing?.release(
      component,
      replicas.map((r) => r.index),
    );
  }
  // Replacements a crashed daemon left unfinished are being retired (lifecycle/replica-slots).
  for (const { name } of plan.components) {
    const { spec, slots } = runtime(deps, name);
    for (let slot = 0; slot < spec.replicas; slot += 1) await slots.settle(slot);
  }
  const onNew = plan.components
    .filter((c) => c.mode === "restart")
    .map((c) => runtime(deps, c.name))
    .filter((rt) => rt.replicas.some((r) => r.edition !== deps.editions.runDir || r.state !== "ready"));
  for (const { replicas } of [...onNew].reverse())
    await Promise.all(replicas.map((r) => r.stop("cutover rolled back", { log, phase: PHASE })));
  const failures: string[] = [];
  for (const { spec, replicas } of onNew) {
    deps.progress(`${spec.name}: starting again on the old edition`);
    const started = await Promise.allSettled(replicas.map((r) => r.start({ edition: deps.editions.runDir })));
    for (const [i, s] of started.entries())
      if (s.status === "rejected") failures.push(`${label(replicas[i]!)}: ${(s.reason as Error).message}`);
  }
  deps.jobs.release();
  const note = failures.length > 0 ? `; not ready again on the old edition: ${failures.join("; ")}` : "";
  step.end(failures.length > 0 ? "failed" : "done", reason + note);
  deps.progress(
    `rolled back in ${formatMs(Date.now() - t0)}: the old edition serves, the links are unchanged`,
  );
  return { result: "rolled-back", reason: reason + note, ms: Date.now() - t0 };
}

async function stopForManualSteps(
  log: OperationLog,
  plan: CutoverPlanRecord,
  deps: CutoverDeps,
  t0: number,
): Promise<CutoverOutcome> {
  const names = plan.components.map((c) => c.name);
  const step = await log.begin({ phase: PHASE, name: "stop-all", component: "*" });
  deps.progress(`--no-restart: stopping ${names.join(", ")}`);
  await deps.supervisor.stop(names, "cutover", { log, phase: PHASE });
  step.end("done", names.join(", "));
  const swap = await log.begin({ phase: PHASE, name: "swap-links", component: "*" });
  await deps.editions.promote();
  swap.end("done", `run → ${deps.editions.patchDir}`);
  deps.jobs.release();
  deps.progress(
    `the new edition is the run edition; ${names.join(", ")} stay stopped for your manual steps: start them with \`steward start\``,
  );
  return { result: "stopped", ms: Date.now() - t0 };
}

/**
 * A component with no process (stopped by the operator, or taken offline) stays so: a cutover
 * changes the edition, not what runs. It starts from the new edition whenever it is started.
 */
function leaveStoppedAlone(plan: CutoverPlanRecord, deps: CutoverDeps): CutoverPlanRecord {
  const resting = plan.components.filter(
    ({ name }) => !runtime(deps, name).replicas.some((r) => LIVE_STATES.has(r.state)),
  );
  for (const { name } of resting)
    deps.progress(`${name}: not running, left so; it starts from the new edition when started`);
  return { ...plan, components: plan.components.filter((c) => !resting.includes(c)) };
}

function runtime(deps: CutoverDeps, name: string): ComponentRuntime {
  const rt = deps.supervisor.components.find((c) => c.spec.name === name);
  if (!rt) throw new RangeError(`the cutover plan names ${name}, which the topology no longer declares`);
  return rt;
}

/** Start `replicas` from `edition`; the first one not ready, and why, or undefined when all are. */
async function startAll(replicas: readonly Replica[], edition: string): Promise<string | undefined> {
  const started = await Promise.allSettled(replicas.map((r) => r.start({ edition })));
  const failed = started.findIndex((s) => s.status === "rejected");
  if (failed < 0) return undefined;
  const reason = (started[failed] as PromiseRejectedResult).reason as Error;
  return `${label(replicas[failed]!)} did not become ready on the new edition: ${reason.message}`;
}

function label(r: Replica): string {
  return `${r.component}[${r.index}]`;
}
