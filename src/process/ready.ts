/**
 * @module process/ready
 * The readiness gate (design §3): repeat a probe until it passes, and fail closed when it has not passed `withinMs` after the spawn, naming the limit and the last probe
 * detail ("not ready within 5s: tcp 127.0.0.1:7001: ECONNREFUSED").
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ReadySpec } from "../topology/types.js";
import { formatMs } from "./duration.js";
import { createProbe, type Probe, type ProbeContext } from "./probes.js";

export interface ReadyContext extends ProbeContext {
  /** Stops the wait early (the replica is being stopped, the daemon shuts down). */
  signal?: AbortSignal;
  /** False once the replica's process is gone: the wait stops at once. */
  isAlive: () => boolean;
}

/** `ms`: time from the call until the probe passed. */
export type ReadyOutcome = { ok: true; ms: number } | { ok: false; reason: string };

/** A probe attempt gets at least this long, even right at the deadline. */
const MIN_ATTEMPT_MS = 100;

/**
 * The first retry comes this soon and the gap doubles up to `intervalMs`: most programs become
 * ready within tens of milliseconds, and a 100-long dependency chain should not pay a whole
 * interval per link.
 */
const FIRST_RETRY_MS = 5;

/**
 * Waits until the replica is ready. Resolves (never rejects) with `{ ok: true, ms }` or
 * `{ ok: false, reason }`, the reason being one of:
 * - `not ready within 5s: <last probe detail>`;
 * - `exited before it was ready`;
 * - `aborted`;
 * - the problem with the spec (`tcp probe: port must be a number …`).
 *
 * @example
 * const r = await waitReady(component.ready, { cwd, env, logFile, logOffset: spawned.logOffset, port, isAlive: () => isAlive(pid) });
 * if (!r.ok) fail(r.reason);
 */
export async function waitReady(spec: ReadySpec, ctx: ReadyContext): Promise<ReadyOutcome> {
  const started = performance.now();
  const deadline = started + spec.withinMs;
  let probe: Probe;
  try {
    probe = createProbe(spec, ctx);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const exited = { ok: false, reason: "exited before it was ready" } as const;
  const aborted = { ok: false, reason: "aborted" } as const;
  let gap = FIRST_RETRY_MS;
  for (;;) {
    if (ctx.signal?.aborted) return aborted;
    if (!ctx.isAlive()) return exited;
    const left = deadline - performance.now();
    const attemptMs = Math.max(Math.min(spec.timeoutMs, left), Math.min(spec.timeoutMs, MIN_ATTEMPT_MS));
    const result = await probe(attemptMs);
    if (ctx.signal?.aborted) return aborted;
    if (!ctx.isAlive()) return exited;
    if (result.ok) return { ok: true, ms: Math.round(performance.now() - started) };
    const wait = Math.min(gap, spec.intervalMs, deadline - performance.now());
    gap *= 2;
    if (wait <= 0)
      return { ok: false, reason: `not ready within ${formatMs(spec.withinMs)}: ${result.detail}` };
    try {
      await sleep(wait, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
    } catch {
      return aborted;
    }
  }
}
