/**
 * @module lifecycle/rolling-restart
 * Replacing a component's replicas one slot at a time, journaled per slot so a resumed restart
 * skips the slots already done. Two ways, chosen per component:
 *
 * - **surge** (routed components whose replicas get `${port}`): start the slot's alternate replica
 *   beside the one serving, wait until it is ready (the edge routes to it from then on), then drain
 *   and stop the old one through its stop budget. The component never has fewer ready replicas than
 *   before; a replacement that fails readiness is stopped and the old replica keeps serving.
 * - **in place** (everything else): drain and stop the replica, start it again, wait until ready;
 *   the other replicas serve meanwhile, and `min_available` must hold without it.
 *
 * A slot with no process (the component was stopped, or the replica failed) is simply started: a
 * restart leaves its components running, whatever they were before.
 */
import { formatMs } from "../process/index.js";
import type { OperationLog } from "../recovery/journal.js";
import type { Replica } from "./replica.js";
import type { ReplicaSlots } from "./replica-slots.js";
import type { CompiledComponent } from "../topology/types.js";
import { LIVE_STATES } from "./replica-state.js";

export interface RollingTarget {
  spec: CompiledComponent;
  slots: ReplicaSlots;
}

export interface RollingContext {
  log: OperationLog;
  phase: number;
  /** Start the new replica beside the old one (see the module comment). */
  surge: boolean;
  /** Progress for the operator. */
  progress: (message: string) => void;
}

/** What happened: nothing when every slot was replaced, else why it stopped. */
export interface RollingOutcome {
  ms: number;
  error?: string;
}

export async function rollingRestart(target: RollingTarget, ctx: RollingContext): Promise<RollingOutcome> {
  const { spec } = target;
  const t0 = Date.now();
  for (let slot = 0; slot < spec.replicas; slot += 1) {
    if (ctx.log.replaced(ctx.phase, spec.name, slot)) continue;
    const error = !LIVE_STATES.has(target.slots.active[slot]!.state)
      ? await startSlot(target, slot, ctx)
      : ctx.surge
        ? await surgeSlot(target, slot, ctx)
        : await inPlaceSlot(target, slot, ctx);
    if (error) return { ms: Date.now() - t0, error };
  }
  ctx.progress(`all ${spec.replicas} replicas replaced in ${formatMs(Date.now() - t0)}`);
  return { ms: Date.now() - t0 };
}

async function surgeSlot(
  { spec, slots }: RollingTarget,
  slot: number,
  ctx: RollingContext,
): Promise<string | undefined> {
  const old = slots.active[slot]!;
  // A replacement the previous daemon left unfinished is being retired: let that finish first.
  await slots.settle(slot);
  const fresh = slots.alternate(slot);
  const step = await ctx.log.begin({ phase: ctx.phase, name: "replace", component: spec.name, index: slot });
  ctx.progress(`starting ${name(fresh)} beside ${name(old)}`);
  try {
    await fresh.start();
  } catch (err) {
    const error = `${name(fresh)} did not become ready: ${(err as Error).message}; the restart stopped here and ${name(old)} keeps serving`;
    slots.left(fresh);
    step.end("failed", error);
    return error;
  }
  slots.promote(slot, fresh);
  ctx.progress(`${name(fresh)} ready and routed; draining ${name(old)}`);
  try {
    await old.stop(`replaced by ${name(fresh)}`, { log: ctx.log, phase: ctx.phase });
  } finally {
    slots.retired(old);
  }
  step.end("done", `${name(old)} → ${name(fresh)} (pid ${fresh.record.pid})`);
  return undefined;
}

/** A slot with no process (stopped, failed, offline…): nothing serves there to keep, start it. */
async function startSlot(
  { spec, slots }: RollingTarget,
  slot: number,
  ctx: RollingContext,
): Promise<string | undefined> {
  const replica = slots.active[slot]!;
  const step = await ctx.log.begin({ phase: ctx.phase, name: "replace", component: spec.name, index: slot });
  ctx.progress(`starting ${name(replica)} (it was ${replica.state})`);
  try {
    await replica.start();
    step.end("done", `pid ${replica.record.pid}`);
    return undefined;
  } catch (err) {
    const error = `${name(replica)} did not start: ${(err as Error).message}; the restart stopped here`;
    step.end("failed", error);
    return error;
  }
}

async function inPlaceSlot(
  { spec, slots }: RollingTarget,
  slot: number,
  ctx: RollingContext,
): Promise<string | undefined> {
  const replica = slots.active[slot]!;
  const others = slots.active.filter((r) => r !== replica && r.state === "ready").length;
  if (others < spec.minAvailable)
    return `${name(replica)} not replaced: only ${others} other replica(s) ready, min_available is ${spec.minAvailable}`;
  const step = await ctx.log.begin({ phase: ctx.phase, name: "replace", component: spec.name, index: slot });
  ctx.progress(`replacing ${name(replica)} (${others} other(s) serving)`);
  await replica.stop("rolling restart", { log: ctx.log, phase: ctx.phase });
  try {
    await replica.start();
    step.end("done", `pid ${replica.record.pid}`);
    return undefined;
  } catch (err) {
    const error = `${name(replica)} did not come back: ${(err as Error).message}; the restart stopped here, the other replicas keep serving`;
    step.end("failed", error);
    return error;
  }
}

function name(r: Replica): string {
  return `${r.component}[${r.index}]`;
}
