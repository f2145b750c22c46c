/**
 * @module store/pending-batch
 * The changes a state writer has queued and not yet committed, keyed by record: a record changed
 * twice keeps its latest form in the place it was first queued, so a batch commits records in the
 * order they were first queued. A put and a delete of the same replica cancel out: the later wins.
 * The maintenance record is one value: the last one queued wins, `null` (delete) included. Patch
 * records are deep-copied when queued (the caller goes on changing a session's phases). Whoever
 * waits on the changes waits on the batch's `done`.
 */
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
  StateBatch,
} from "./records.js";

const replicaKey = (component: string, index: number): string => `${component}\0${index}`;

/** A deep copy of a plain-data record, so the caller's later changes do not leak into the batch. */
const deepCopy = <T>(record: T): T => structuredClone(record);

export class PendingBatch {
  readonly #replicas = new Map<string, ReplicaRecord>();
  readonly #components = new Map<string, ComponentRecord>();
  readonly #deletes = new Map<string, { component: string; index: number }>();
  readonly #operations = new Map<string, OperationRecord>();
  readonly #steps = new Map<string, OperationStepRecord>();
  readonly #jobRuns = new Map<string, JobRunRecord>();
  readonly #patchSessions = new Map<string, PatchSessionRecord>();
  readonly #patchApplications = new Map<string, PatchApplicationRecord>();
  readonly #patchEditions = new Map<string, PatchEditionRecord>();
  /** `undefined`: not touched by this batch; `null`: delete it. */
  #maintenance: MaintenanceRecord | null | undefined;
  #settlers: (() => void)[] = [];
  /** Resolves once the batch was committed or dropped (never rejects). */
  readonly done: Promise<void>;

  constructor() {
    this.done = new Promise((resolve) => this.#settlers.push(resolve));
  }

  putReplica(record: ReplicaRecord): void {
    const key = replicaKey(record.component, record.index);
    this.#deletes.delete(key);
    this.#replicas.set(key, { ...record });
  }

  putComponent(record: ComponentRecord): void {
    this.#components.set(record.name, { ...record });
  }

  putOperation(record: OperationRecord): void {
    this.#operations.set(record.id, { ...record });
  }

  putStep(record: OperationStepRecord): void {
    this.#steps.set(`${record.operationId}\0${record.seq}`, { ...record });
  }

  putJobRun(record: JobRunRecord): void {
    this.#jobRuns.set(record.id, { ...record });
  }

  /** Keyed by `(id, node)`; phases and plan are copied. */
  putPatchSession(record: PatchSessionRecord): void {
    this.#patchSessions.set(`${record.id}\0${record.node}`, deepCopy(record));
  }

  /** Keyed by `(session, node, patchId)`. */
  putPatchApplication(record: PatchApplicationRecord): void {
    this.#patchApplications.set(`${record.session}\0${record.node}\0${record.patchId}`, deepCopy(record));
  }

  /** Keyed by `(node, edition)`; the patch list is copied. */
  putPatchEdition(record: PatchEditionRecord): void {
    this.#patchEditions.set(`${record.node}\0${record.edition}`, deepCopy(record));
  }

  /** The maintenance record to write, or `null` to delete it. */
  putMaintenance(record: MaintenanceRecord | null): void {
    // Its lists are copied: the caller may go on changing them (a list that is not one is left for
    // the store to refuse).
    const copy = <T>(list: T): T => (Array.isArray(list) ? ([...list] as T) : list);
    this.#maintenance =
      record === null
        ? null
        : { ...record, components: copy(record.components), pausedSchedules: copy(record.pausedSchedules) };
  }

  deleteReplica(component: string, index: number): void {
    const key = replicaKey(component, index);
    this.#replicas.delete(key);
    this.#deletes.delete(key); // re-queued at the end, after any earlier delete
    this.#deletes.set(key, { component, index });
  }

  /** How many records the batch writes or deletes. */
  get size(): number {
    return (
      this.#replicas.size +
      this.#components.size +
      this.#deletes.size +
      this.#operations.size +
      this.#steps.size +
      this.#jobRuns.size +
      this.#patchSessions.size +
      this.#patchApplications.size +
      this.#patchEditions.size +
      (this.#maintenance === undefined ? 0 : 1)
    );
  }

  toBatch(): StateBatch {
    return {
      replicas: [...this.#replicas.values()],
      components: [...this.#components.values()],
      deleteReplicas: [...this.#deletes.values()],
      operations: [...this.#operations.values()],
      steps: [...this.#steps.values()],
      jobRuns: [...this.#jobRuns.values()],
      patchSessions: [...this.#patchSessions.values()],
      patchApplications: [...this.#patchApplications.values()],
      patchEditions: [...this.#patchEditions.values()],
      ...(this.#maintenance === undefined ? {} : { maintenance: this.#maintenance }),
    };
  }

  /**
   * Applies the changes of `newer` (queued after this batch) on top of this one and takes over its
   * waiters: what this batch held keeps its place, newer forms replace older ones.
   */
  absorb(newer: PendingBatch): void {
    for (const c of newer.#components.values()) this.putComponent(c);
    for (const r of newer.#replicas.values()) this.putReplica(r);
    for (const d of newer.#deletes.values()) this.deleteReplica(d.component, d.index);
    for (const o of newer.#operations.values()) this.putOperation(o);
    for (const s of newer.#steps.values()) this.putStep(s);
    for (const j of newer.#jobRuns.values()) this.putJobRun(j);
    for (const p of newer.#patchSessions.values()) this.putPatchSession(p);
    for (const a of newer.#patchApplications.values()) this.putPatchApplication(a);
    for (const e of newer.#patchEditions.values()) this.putPatchEdition(e);
    if (newer.#maintenance !== undefined) this.#maintenance = newer.#maintenance;
    this.#settlers.push(...newer.#settlers);
    newer.#settlers = [];
  }

  /** Committed or dropped: resolve everyone waiting. */
  settle(): void {
    for (const settle of this.#settlers.splice(0)) settle();
  }
}
