/**
 * @module store/state-writer
 * Group commit: replica, component, journal, job run, patch and maintenance records changed during one
 * turn of the event loop are committed together in one durable transaction. Starting 100 replicas then
 * costs a handful of fsyncs instead of several hundred, and each caller can still await the commit
 * of its change.
 *
 * When the store cannot be reached (`StoreUnreachableError`, STW-2007: PostgreSQL down or a
 * connection cut), the batch is kept and retried with backoff, for as long as it takes; changes
 * queued meanwhile merge into it (latest form of each record, first-queued order). The outage is
 * reported once, the recovery once. Supervision never waits for the store: callers that `void` their
 * write go on; callers that await it wait until it is written.
 */
import { StoreUnreachableError } from "./errors.js";
import { PendingBatch } from "./pending-batch.js";
import type {
  ComponentRecord,
  JobRunRecord,
  MaintenanceRecord,
  OperationRecord,
  OperationStepRecord,
  PatchApplicationRecord,
  PatchEditionRecord,
  PatchSessionRecord,
  ReplicaRecord,
} from "./records.js";
import type { StateStore } from "./state-store.js";

/** What `onRestored` is told when the store answers again after an outage. */
export interface StoreRestored {
  /** Records (written or deleted) flushed by the first commit that succeeded; 0 if it was refused. */
  writes: number;
  /** From the first failed commit to the one that succeeded. */
  outageMs: number;
}

export interface StateWriterOptions {
  /** Called once when the store answers again after it was unreachable. */
  onRestored?: (restored: StoreRestored) => void;
  /** First wait before retrying a commit that could not reach the store. @default 100 */
  retryInitialMs?: number;
  /** Longest wait between retries; the wait doubles up to it. @default 2000 */
  retryMaxMs?: number;
}

const DEFAULT_RETRY_INITIAL_MS = 100;
const DEFAULT_RETRY_MAX_MS = 2000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @example
 * const writer = new StateWriter(store, (err) => log("error", String(err)), {
 *   onRestored: ({ writes }) => log("info", `state store reachable again; ${writes} queued writes flushed`),
 * });
 * void writer.putReplica(record); // committed with everything else changed in this turn
 */
export class StateWriter {
  readonly #store: StateStore;
  readonly #onError: (err: unknown) => void;
  readonly #onRestored: (restored: StoreRestored) => void;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  /** Changes not yet handed to the store (after a failed attempt: that batch, with newer changes merged). */
  #queued = new PendingBatch();
  /** The batch the store is committing right now. */
  #committing: PendingBatch | undefined;
  #draining = false;
  /** When the first commit that could not reach the store failed; undefined while it answers. */
  #outageSince: number | undefined;
  /** Set by `stopWaiting()`: while the store is unreachable, callers no longer wait for their writes. */
  #noWait = false;

  constructor(store: StateStore, onError: (err: unknown) => void, options: StateWriterOptions = {}) {
    this.#store = store;
    this.#onError = onError;
    this.#onRestored = options.onRestored ?? (() => undefined);
    this.#retryInitialMs = options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS;
    this.#retryMaxMs = options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
  }

  /**
   * Queue the current form of a replica record. Resolves once it is committed, or once a refused
   * commit was reported to `onError`: supervision never stops because the store refused a write. While
   * the store is unreachable it stays pending.
   */
  putReplica(record: ReplicaRecord): Promise<void> {
    this.#queued.putReplica(record);
    return this.#schedule();
  }

  putComponent(record: ComponentRecord): Promise<void> {
    this.#queued.putComponent(record);
    return this.#schedule();
  }

  putOperation(record: OperationRecord): Promise<void> {
    this.#queued.putOperation(record);
    return this.#schedule();
  }

  putStep(record: OperationStepRecord): Promise<void> {
    this.#queued.putStep(record);
    return this.#schedule();
  }

  deleteReplica(component: string, index: number): Promise<void> {
    this.#queued.deleteReplica(component, index);
    return this.#schedule();
  }

  /** Queue the current form of a job run (upserted by `id`); resolves as `putReplica` does. */
  putJobRun(record: JobRunRecord): Promise<void> {
    this.#queued.putJobRun(record);
    return this.#schedule();
  }

  /**
   * Queue the current form of a patch session (upserted by `(id, node)`); resolves as `putReplica`
   * does. A copy is queued: the caller may go on changing the record's phases.
   */
  putPatchSession(record: PatchSessionRecord): Promise<void> {
    this.#queued.putPatchSession(record);
    return this.#schedule();
  }

  /** Queue the current form of a patch application (upserted by `(session, node, patchId)`). */
  putPatchApplication(record: PatchApplicationRecord): Promise<void> {
    this.#queued.putPatchApplication(record);
    return this.#schedule();
  }

  /** Queue the current form of a patch edition (upserted by `(node, edition)`). */
  putPatchEdition(record: PatchEditionRecord): Promise<void> {
    this.#queued.putPatchEdition(record);
    return this.#schedule();
  }

  /**
   * Queue the maintenance record (maintenance on, or its lists changed), or `null` to delete it
   * (maintenance off). The last value queued before a commit is the one written.
   */
  putMaintenance(record: MaintenanceRecord | null): Promise<void> {
    this.#queued.putMaintenance(record);
    return this.#schedule();
  }

  /** Resolves when everything queued so far has been committed (or reported as refused). */
  flush(): Promise<void> {
    if (this.#queued.size > 0) return this.#queued.done;
    return this.#committing?.done ?? Promise.resolve();
  }

  /**
   * For an orderly shutdown (`down`): from now on, while the store is unreachable, whoever awaits a
   * write (or `flush`) goes on at once — the writes stay queued and are retried as before, but a
   * store gone for good no longer holds the shutdown forever. A store that answers is waited for.
   * @returns whether the store is unreachable now
   */
  stopWaiting(): boolean {
    this.#noWait = true;
    if (this.#outageSince === undefined) return false;
    this.#queued.settle();
    this.#committing?.settle();
    return true;
  }

  /** True from a commit that could not reach the store until one that did. */
  get unreachable(): boolean {
    return this.#outageSince !== undefined;
  }

  #schedule(): Promise<void> {
    const done = this.#queued.done;
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
    if (this.#noWait && this.#outageSince !== undefined) this.#queued.settle();
    return done;
  }

  /** Commits queued batches one after the other until nothing is queued. */
  async #drain(): Promise<void> {
    let backoff = this.#retryInitialMs;
    for (;;) {
      await nextTurn(); // let the rest of this turn join the batch
      const batch = this.#queued;
      if (batch.size === 0) {
        this.#draining = false; // in the same tick as the check: a later put starts a new drain
        return;
      }
      this.#queued = new PendingBatch();
      this.#committing = batch;
      let failure: unknown;
      try {
        await this.#store.commit(batch.toBatch());
      } catch (err) {
        failure = err;
      }
      this.#committing = undefined;
      if (failure instanceof StoreUnreachableError) {
        if (this.#outageSince === undefined) {
          this.#outageSince = Date.now();
          this.#report(this.#onError, failure);
        }
        batch.absorb(this.#queued); // newer changes go behind the held batch
        this.#queued = batch;
        if (this.#noWait) batch.settle();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.#retryMaxMs);
        continue;
      }
      backoff = this.#retryInitialMs;
      if (this.#outageSince !== undefined) {
        // The store answered (even a refusal is an answer): the outage is over.
        const outageMs = Date.now() - this.#outageSince;
        this.#outageSince = undefined;
        this.#report(this.#onRestored, { writes: failure === undefined ? batch.size : 0, outageMs });
      }
      if (failure !== undefined) this.#report(this.#onError, failure); // refused: dropped, as before
      batch.settle();
    }
  }

  /** Calls a callback of the owner; one that throws must not stop the writer. */
  #report<T>(callback: (value: T) => void, value: T): void {
    try {
      callback(value);
    } catch {
      // the owner's problem; the writer goes on
    }
  }
}
