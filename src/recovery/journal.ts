/**
 * @module recovery/journal
 * The operation journal (design §3, §4): every multi-step operation is a record with its plan, and
 * each step is written before it runs — the step waits for that durable write — and again after it
 * finishes. A daemon that crashed mid-operation finds the record still `running` and resumes it
 * (`OperationLog.resume`): phases already done are skipped, a step that was `running` runs again
 * (hooks run at least once), and a stop continues with what is left of its grace.
 */
import type {
  OperationKind,
  OperationPhase,
  OperationRecord,
  OperationStepRecord,
  StepName,
  StepStatus,
} from "../store/records.js";
import type { StateWriter } from "../store/state-writer.js";
import type { StopResume } from "../lifecycle/stop-budget.js";

/** Where a step belongs: which phase of the plan, which component, which replica (stop budget). */
export interface StepTarget {
  phase: number;
  name: StepName;
  component: string;
  index?: number | null;
}

/** A step that has been journaled as `running`; `end` records how it finished. */
export interface JournaledStep {
  end(status: Exclude<StepStatus, "running">, detail?: string | null): void;
}

let counter = 0;
let lastStart = 0;

/** One journaled operation. */
export class OperationLog {
  #record: OperationRecord;
  readonly #writer: StateWriter;
  /** Steps the operation had journaled before the crash it is resumed from (empty when new). */
  readonly previous: readonly OperationStepRecord[];
  #seq: number;

  private constructor(writer: StateWriter, record: OperationRecord, previous: OperationStepRecord[]) {
    this.#writer = writer;
    this.#record = record;
    this.previous = previous;
    this.#seq = previous.reduce((max, s) => Math.max(max, s.seq), 0);
  }

  /** Journal a new operation; resolves once its record is durable. */
  static async begin(
    writer: StateWriter,
    instance: number,
    kind: OperationKind,
    targets: string[],
    plan: OperationPhase[],
  ): Promise<OperationLog> {
    const { log, written } = OperationLog.open(writer, instance, kind, targets, plan);
    await written;
    return log;
  }

  /**
   * Journal a new operation at once (its id is known before anything awaits, so operations get ids
   * and queue places in the order they were asked); `written` resolves once the record is durable.
   */
  static open(
    writer: StateWriter,
    instance: number,
    kind: OperationKind,
    targets: string[],
    plan: OperationPhase[],
  ): { log: OperationLog; written: Promise<void> } {
    // Strictly increasing start times and zero-padded counters: recovery resumes in the order asked.
    const now = Math.max(Date.now(), lastStart + 1);
    lastStart = now;
    counter += 1;
    const log = new OperationLog(
      writer,
      {
        id: `op-${now.toString(36)}-${instance}-${String(counter).padStart(6, "0")}`,
        kind,
        targets,
        plan,
        status: "running",
        instance,
        resumes: 0,
        startedAt: now,
        finishedAt: null,
        error: null,
      },
      [],
    );
    return { log, written: writer.putOperation(log.#record) };
  }

  /** Take over an operation a crashed daemon left `running`, with the steps it journaled. */
  static async resume(
    writer: StateWriter,
    record: OperationRecord,
    steps: OperationStepRecord[],
  ): Promise<OperationLog> {
    const log = new OperationLog(writer, { ...record, resumes: record.resumes + 1 }, steps);
    await writer.putOperation(log.#record);
    return log;
  }

  get record(): Readonly<OperationRecord> {
    return this.#record;
  }

  get id(): string {
    return this.#record.id;
  }

  /** True when a previous run of this operation finished replica `index` of `component` in a `replace` phase. */
  replaced(phase: number, component: string, index: number): boolean {
    return this.previous.some(
      (s) =>
        s.phase === phase &&
        s.name === "replace" &&
        s.component === component &&
        s.index === index &&
        s.status === "done",
    );
  }

  /** True when a previous run of this operation finished every component of phase `phase`. */
  phaseDone(phase: number): boolean {
    const { action, components } = this.#record.plan[phase]!;
    if (action === "replace") return false; // decided replica by replica (`replaced`)
    return components.every((c) =>
      this.previous.some(
        (s) => s.phase === phase && s.name === action && s.component === c && s.status === "done",
      ),
    );
  }

  /**
   * What an interrupted stop of one replica had done: its drain hook finished, or its stop signal
   * went out (and when). Undefined when the journal has no stop-budget step for it.
   */
  stopResume(component: string, index: number): StopResume | undefined {
    const steps = this.previous.filter((s) => s.component === component && s.index === index);
    if (steps.length === 0) return undefined;
    const signal = steps.filter((s) => s.name === "signal" && s.status === "done").at(-1);
    return {
      drainDone: steps.some((s) => s.name === "drain-hook" && s.status === "done"),
      signalSentAt: signal ? signal.startedAt : null,
    };
  }

  /** Journal a step as `running`; resolves once that write is durable, so the step may run. */
  async begin(target: StepTarget, detail: string | null = null): Promise<JournaledStep> {
    this.#seq += 1;
    const record: OperationStepRecord = {
      operationId: this.#record.id,
      seq: this.#seq,
      phase: target.phase,
      name: target.name,
      component: target.component,
      index: target.index ?? null,
      status: "running",
      startedAt: Date.now(),
      finishedAt: null,
      detail,
    };
    await this.#writer.putStep(record);
    return {
      end: (status, note) => {
        void this.#writer.putStep({
          ...record,
          status,
          finishedAt: Date.now(),
          detail: note === undefined ? record.detail : note,
        });
      },
    };
  }

  /**
   * A plan that depends on state another operation may change (`up` and maintenance read the
   * maintenance record) is made again when the operation's turn comes; resolves once durable.
   */
  async replan(plan: OperationPhase[]): Promise<void> {
    if (JSON.stringify(plan) === JSON.stringify(this.#record.plan)) return;
    this.#record = { ...this.#record, plan };
    await this.#writer.putOperation(this.#record);
  }

  /** True once `finish` was called. */
  get finished(): boolean {
    return this.#record.status !== "running";
  }

  /**
   * Record the end of the operation; resolves once it (and every step before it) is durable. The
   * first end recorded stays (a superseded operation is finished before its caller hears of it).
   */
  async finish(ok: boolean, error: string | null = null): Promise<void> {
    if (this.finished) return this.#writer.flush();
    this.#record = { ...this.#record, status: ok ? "done" : "failed", finishedAt: Date.now(), error };
    await this.#writer.putOperation(this.#record);
  }
}
