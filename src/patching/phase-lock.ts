/**
 * @module patching/phase-lock
 * One patch phase at a time on a daemon. A phase claims the lock once its input has been checked
 * and releases it however it ends — done, failed, or thrown before its first await — so a bad call
 * can never leave every later phase refused with "is running".
 */
import { IllegalStateError } from "../errors.js";

export class PhaseLock {
  #running: string | undefined;

  /** The phase holding the lock, if any. */
  get running(): string | undefined {
    return this.#running;
  }

  /**
   * Take the lock for `phase`; throws `IllegalStateError` (409) naming the phase that holds it.
   * @returns the release, to call exactly when the phase ends (calling it again does nothing)
   */
  claim(phase: string): () => void {
    if (this.#running)
      throw new IllegalStateError(
        `\`patch ${this.#running}\` is running; wait for it to finish (\`steward patch status\` shows its progress)`,
        { running: this.#running },
      );
    this.#running = phase;
    let held = true;
    return () => {
      if (held && this.#running === phase) this.#running = undefined;
      held = false;
    };
  }

  /** Run `work` under the lock for `phase`; the lock is released whatever `work` does. */
  async hold<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const release = this.claim(phase);
    try {
      return await work();
    } finally {
      release();
    }
  }
}
