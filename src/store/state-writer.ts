/**
 * @module store/state-writer
 * Group commit: replica and component records changed during one turn of the event loop are
 * committed together in one durable transaction. Starting 100 replicas then costs a handful of
 * fsyncs instead of several hundred, and each caller can still await the commit of its change.
 */
import type {
  ComponentRecord,
  OperationRecord,
  OperationStepRecord,
  ReplicaRecord,
  StateBatch,
} from "./records.js";
import type { StateStore } from "./state-store.js";

export class StateWriter {
  readonly #store: StateStore;
  readonly #onError: (err: unknown) => void;
  #replicas = new Map<string, ReplicaRecord>();
  #components = new Map<string, ComponentRecord>();
  #deletes: { component: string; index: number }[] = [];
  #operations = new Map<string, OperationRecord>();
  #steps = new Map<string, OperationStepRecord>();
  #pending: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(store: StateStore, onError: (err: unknown) => void) {
    this.#store = store;
    this.#onError = onError;
  }

  /**
   * Queue the current form of a replica record. Resolves once its batch committed, or once a failed
   * commit was reported to `onError`: supervision never stops because the store refused a write.
   */
  putReplica(record: ReplicaRecord): Promise<void> {
    this.#deletes = this.#deletes.filter((d) => d.component !== record.component || d.index !== record.index);
    this.#replicas.set(`${record.component}\0${record.index}`, { ...record });
    return this.#schedule();
  }

  putComponent(record: ComponentRecord): Promise<void> {
    this.#components.set(record.name, { ...record });
    return this.#schedule();
  }

  putOperation(record: OperationRecord): Promise<void> {
    this.#operations.set(record.id, { ...record });
    return this.#schedule();
  }

  putStep(record: OperationStepRecord): Promise<void> {
    this.#steps.set(`${record.operationId}\0${record.seq}`, { ...record });
    return this.#schedule();
  }

  deleteReplica(component: string, index: number): Promise<void> {
    this.#replicas.delete(`${component}\0${index}`);
    this.#deletes.push({ component, index });
    return this.#schedule();
  }

  /** Resolves when everything queued so far has been committed (or reported as failed). */
  flush(): Promise<void> {
    return this.#pending ?? this.#chain;
  }

  #schedule(): Promise<void> {
    if (this.#pending) return this.#pending;
    this.#pending = this.#chain.then(
      () =>
        new Promise<void>((resolve) => {
          setImmediate(() => {
            const batch: StateBatch = {
              replicas: [...this.#replicas.values()],
              components: [...this.#components.values()],
              deleteReplicas: this.#deletes,
              operations: [...this.#operations.values()],
              steps: [...this.#steps.values()],
            };
            this.#operations = new Map();
            this.#steps = new Map();
            this.#replicas = new Map();
            this.#components = new Map();
            this.#deletes = [];
            this.#pending = undefined;
            this.#store
              .commit(batch)
              .catch((err: unknown) => this.#onError(err))
              .finally(resolve);
          });
        }),
    );
    this.#chain = this.#pending;
    return this.#pending;
  }
}
