/**
 * @module process/backoff
 * Restart pacing (design §3, §11): exponential backoff between restarts, and the rate limit
 * ("5 in 60s") after which a replica is `failed` until an operator acts.
 */
import type { RestartSpec } from "../topology/types.js";

/**
 * Delay before restart number `attempt` (1-based): `backoffInitialMs × 2^(attempt−1)`, capped at
 * `backoffMaxMs`. Attempts below 1 count as 1.
 *
 * @example backoffDelay(1, { backoffInitialMs: 100, backoffMaxMs: 30_000 }) // 100
 * @example backoffDelay(4, { backoffInitialMs: 100, backoffMaxMs: 30_000 }) // 800
 * @example backoffDelay(20, { backoffInitialMs: 100, backoffMaxMs: 30_000 }) // 30000
 */
export function backoffDelay(
  attempt: number,
  spec: Pick<RestartSpec, "backoffInitialMs" | "backoffMaxMs">,
): number {
  const exponent = Math.min(Math.max(Math.floor(attempt), 1) - 1, 52);
  return Math.min(spec.backoffMaxMs, spec.backoffInitialMs * 2 ** exponent);
}

/**
 * Sliding-window restart limit: at most `limitCount` restarts within any `limitWindowMs`.
 *
 * @example
 * const limiter = new RestartLimiter({ limitCount: 5, limitWindowMs: 60_000 });
 * if (limiter.exceeded(now)) markFailed("restarted 5 times in 60s");
 * else { limiter.record(now); scheduleRestart(); }
 */
export class RestartLimiter {
  readonly #count: number;
  readonly #windowMs: number;
  #times: number[] = [];

  constructor(spec: Pick<RestartSpec, "limitCount" | "limitWindowMs">) {
    this.#count = spec.limitCount;
    this.#windowMs = spec.limitWindowMs;
  }

  /** Records a restart at `now` (epoch ms). */
  record(now = Date.now()): void {
    this.#prune(now);
    this.#times.push(now);
  }

  /** Restarts recorded within the window ending at `now`. */
  count(now = Date.now()): number {
    this.#prune(now);
    return this.#times.length;
  }

  /** True when `limitCount` restarts already happened within the window: one more would exceed the limit. */
  exceeded(now = Date.now()): boolean {
    return this.count(now) >= this.#count;
  }

  /** Forgets every recorded restart (an operator reset the replica). */
  reset(): void {
    this.#times = [];
  }

  #prune(now: number): void {
    const since = now - this.#windowMs;
    this.#times = this.#times.filter((t) => t > since);
  }
}
