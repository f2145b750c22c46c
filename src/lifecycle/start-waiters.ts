/**
 * @module lifecycle/start-waiters
 * Callers of `Replica.start()` wait for the start to settle: `ready` resolves them, a state at
 * rest (failed, crashed, stopped…) rejects them with the reason.
 */
import { ReplicaError } from "../errors.js";

interface Waiter {
  resolve: () => void;
  reject: (err: ReplicaError) => void;
}

export class StartWaiters {
  #waiters: Waiter[] = [];

  constructor(
    private readonly component: string,
    private readonly index: number,
  ) {}

  /** A promise settled by the next `settle()`. */
  add(): Promise<void> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Hand the current waiters over (so a settle in between does not wake them); `restore` gives them back. */
  take(): Waiter[] {
    const taken = this.#waiters;
    this.#waiters = [];
    return taken;
  }

  restore(waiters: Waiter[]): void {
    this.#waiters.push(...waiters);
  }

  /** Resolve everyone when `failure` is undefined, reject everyone with it otherwise. */
  settle(failure: string | undefined): void {
    const waiters = this.take();
    for (const w of waiters)
      if (failure === undefined) w.resolve();
      else w.reject(new ReplicaError(this.component, this.index, failure));
  }
}
