/**
 * @module auth/failure-limiter
 * Slows brute force on the remote API: after `maxFailures` refused tokens from one address within
 * `windowMs`, every request from it is answered 429 (with `Retry-After`) until the oldest failure
 * leaves the window. In memory: a daemon restart forgets, which costs an attacker a restart they
 * cannot cause.
 */

export interface FailureLimiterOptions {
  /** @default 10 */
  maxFailures?: number;
  /** @default 60000 */
  windowMs?: number;
}

export class FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Address → times of its recent failures, oldest first. */
  readonly #failures = new Map<string, number[]>();

  constructor(opts: FailureLimiterOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
  }

  /** Seconds `address` must wait, or 0 when it may try. */
  retryAfterS(address: string, now = Date.now()): number {
    const times = this.#recent(address, now);
    if (times.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((times[times.length - this.maxFailures]! + this.windowMs - now) / 1000));
  }

  fail(address: string, now = Date.now()): void {
    // Many addresses failing once each must not grow the map without end.
    if (this.#failures.size > 10_000) for (const a of [...this.#failures.keys()]) this.#recent(a, now);
    const times = this.#recent(address, now);
    times.push(now);
    // Bounded: only the newest `maxFailures` matter.
    this.#failures.set(address, times.slice(-this.maxFailures));
  }

  #recent(address: string, now: number): number[] {
    const times = (this.#failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, times);
    return times;
  }
}
