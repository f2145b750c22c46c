/**
 * @module lifecycle/restart-policy
 * What happens after a replica's process exits on its own (design §3): `no | on-failure | always`,
 * exponential backoff between restarts, and a rate limit ("5 in 60s") after which the replica is
 * `failed` until an operator starts it again.
 */
import { backoffDelay, formatMs, RestartLimiter } from "../process/index.js";
import type { RestartSpec } from "../topology/types.js";

export type RestartDecision =
  /** Stay down: `stopped` after a clean exit, `crashed` otherwise. */
  | { action: "rest"; state: "stopped" | "crashed"; reason: string | null }
  /** The rate limit is spent: `failed`. */
  | { action: "give-up"; reason: string }
  | { action: "restart"; delayMs: number; reason: string };

export class RestartPolicy {
  readonly #spec: RestartSpec;
  readonly #limiter: RestartLimiter;
  /** Consecutive unexpected exits, for the backoff. */
  #failures = 0;
  #readyAt: number | undefined;

  constructor(spec: RestartSpec) {
    this.#spec = spec;
    this.#limiter = new RestartLimiter(spec);
  }

  /** An operator started the replica: forget the failures and the spent limit. */
  reset(): void {
    this.#limiter.reset();
    this.#failures = 0;
    this.#readyAt = undefined;
  }

  markReady(now = Date.now()): void {
    this.#readyAt = now;
  }

  /** `why` describes the exit (`exited with code 3`); `clean` is exit 0 without a signal. */
  decide(why: string, clean: boolean, now = Date.now()): RestartDecision {
    // A replica that served longer than the longest backoff starts its backoff afresh.
    if (this.#readyAt !== undefined && now - this.#readyAt > this.#spec.backoffMaxMs) this.#failures = 0;
    this.#readyAt = undefined;
    const { policy, limitCount, limitWindowMs } = this.#spec;
    if (!(policy === "always" || (policy === "on-failure" && !clean)))
      return { action: "rest", state: clean ? "stopped" : "crashed", reason: clean ? null : why };
    if (this.#limiter.exceeded(now))
      return {
        action: "give-up",
        reason: `${why}; restarted ${limitCount} times within ${formatMs(limitWindowMs)}, gave up (start it again to retry)`,
      };
    this.#limiter.record(now);
    const delayMs = backoffDelay(++this.#failures, this.#spec);
    return { action: "restart", delayMs, reason: `${why}; restarting in ${formatMs(delayMs)}` };
  }
}
