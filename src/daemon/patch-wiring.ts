/**
 * @module daemon/patch-wiring
 * Connects the patch cycle (src/patching) to the daemon: replicas and job runs start in the run
 * edition, a cutover runs as a journaled operation over the supervisor and the edge, an open
 * session holds its jobs again after a restart, and a cutover a dead daemon left half-done is
 * finished or rolled back when the next one resumes it.
 */
import { realpathSync } from "node:fs";
import { hostname } from "node:os";
import { IllegalStateError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import type { JobRunner } from "../lifecycle/job-runner.js";
import type { Supervisor } from "../lifecycle/supervisor.js";
import type { OperationQueue } from "../lifecycle/operation-queue.js";
import { formatMs } from "../process/index.js";
import { OperationLog } from "../recovery/journal.js";
import type { CutoverPlanRecord, PatchPhase, PatchSessionRecord } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import type { StateWriter } from "../store/state-writer.js";
import type { CompiledTopology } from "../topology/types.js";
import { switchedIndices } from "../patching/cutover-plan.js";
import { resumeCutover, runCutover, type CutoverDeps, type CutoverOutcome } from "../patching/cutover.js";
import { PatchCycle, type CutoverOptions, type CutoverSettle, type PhaseResult } from "../patching/cycle.js";
import { EditionLayout } from "../patching/layout.js";
import { Sessions } from "../patching/sessions.js";
import { PhaseLock } from "../patching/phase-lock.js";
import type { DaemonEdge } from "./edge-wiring.js";
import type { PatchingStatus } from "./status.js";
import { isOpen, nextPhase } from "../patching/phase-order.js";
import { settleCutover } from "../patching/settle-cutover.js";

/** How long a cutover waits for job runs in progress, unless `--wait-jobs` says otherwise. */
const WAIT_JOBS_MS = 10 * 60_000;
const NO_RESTART = "--no-restart";

export interface PatchingParts {
  supervisor: Supervisor;
  jobs: JobRunner;
  edge: DaemonEdge | undefined;
  writer: StateWriter;
  store: StateStore;
  bus: EventBus;
  instance: number;
  /** A cutover waits its turn after the operations asked before it on its components. */
  queue: OperationQueue;
  /** True once `down` was asked: a cutover not yet queued is refused (`downRefusal`). */
  downAsked: () => boolean;
}

/**
 * What a cutover not yet running hears when `down` is asked: `down` stops everything, so the
 * cutover cannot run after it; it is refused with nothing changed (its session stays open).
 */
export function downRefusal(): IllegalStateError {
  return new IllegalStateError(
    "`steward down` was asked while this cutover waited its turn: the cutover did not run and nothing was changed; after `steward up`, run `steward patch cutover` again",
  );
}

export class DaemonPatching {
  readonly layout: EditionLayout;
  readonly sessions: Sessions;
  readonly cycle: PatchCycle;
  /** One phase at a time (the API claims it once a phase's input is checked). */
  readonly lock = new PhaseLock();
  #parts!: PatchingParts;
  /** The cutover in progress, until its end is recorded (settled either way). */
  #inFlight: Promise<unknown> = Promise.resolve();

  private constructor(topology: CompiledTopology, parts: PatchingParts) {
    this.#parts = parts;
    this.layout = new EditionLayout(topology.patching!.root);
    this.sessions = new Sessions(hostname(), parts.store, parts.writer);
    this.cycle = new PatchCycle({
      topology,
      sessions: this.sessions,
      holdJobs: (why) => this.#holdJobs(why),
      releaseJobs: () => parts.jobs.release(),
      surge: (c) => parts.edge?.surge(c) ?? false,
      cutover: (session, plan, opts, settle) => {
        const run = this.#cutover(session, plan, opts, settle);
        this.#inFlight = run.catch(() => undefined);
        return run;
      },
      progress: (phase, message) => this.#progress(phase, message),
    });
  }

  /** The run edition's real directory (replicas and job runs start there). */
  static runEdition(topology: CompiledTopology): (() => string) | undefined {
    if (!topology.patching) return undefined;
    const layout = new EditionLayout(topology.patching.root);
    return () => layout.runDir();
  }

  /**
   * After a crash in a cutover that had switched routing: per component, the indices of the new
   * edition's replicas, which serve (patching/cutover-plan).
   */
  static async preferred(store: StateStore): Promise<Map<string, number[]>> {
    for (const op of await store.listOperations("running"))
      if (op.kind === "cutover") return switchedIndices(await store.listSteps(op.id)) ?? new Map();
    return new Map();
  }

  /** Wire the cycle to the daemon's parts; an open session holds its jobs again. */
  static async attach(topology: CompiledTopology, parts: PatchingParts): Promise<DaemonPatching | undefined> {
    if (!topology.patching) return undefined;
    const patching = new DaemonPatching(topology, parts);
    let open = await patching.sessions.open();
    patching.sessions.latest ??= (await patching.sessions.list(1))[0];
    // A phase the previous daemon died in (the cutover excepted: it is resumed from its journal)
    // failed; run again, it resumes.
    for (const [phase, record] of Object.entries(open?.phases ?? {}) as [PatchPhase, { state: string }][])
      if (open && record.state === "running" && phase !== "cutover")
        open = await patching.sessions.end(
          open,
          phase,
          "failed",
          `interrupted: the daemon stopped during ${phase}; run \`steward patch ${phase}\` again to resume`,
        );
    if (open) open = await patching.#settleStranded(open);
    if (open?.kind === "cycle" && open.phases.prepare?.state === "done")
      patching.#holdJobs(`patch session ${open.id} is open (during_patching: hold)`);
    return patching;
  }

  /** Resolves once no cutover is in progress and the last one's end is recorded (for `down`). */
  async idle(): Promise<void> {
    await this.#inFlight;
  }

  /** The newest session, for `status`. */
  summary(): PatchingStatus | undefined {
    const s = this.sessions.latest;
    if (!s) return undefined;
    return {
      session: s.id,
      kind: s.kind,
      status: s.status,
      phases: Object.fromEntries(Object.entries(s.phases).map(([phase, p]) => [phase, p.state])),
      next: nextPhase(s),
    };
  }

  /**
   * A cutover the session still calls running while its operation has ended (or never began) is
   * recorded as it ended (patching/settle-cutover); returns the session if it is still open.
   */
  async #settleStranded(open: PatchSessionRecord): Promise<PatchSessionRecord | undefined> {
    const id = open.phases.cutover?.operationId;
    const op = id ? (await this.#parts.store.listOperations()).find((o) => o.id === id) : undefined;
    const steps = op ? await this.#parts.store.listSteps(op.id) : [];
    const settled = settleCutover(
      open,
      op,
      steps,
      this.layout.read().run,
      op?.targets.includes(NO_RESTART) ?? false,
    );
    if (!settled) return open;
    const ended = settled instanceof Error ? "failed" : settled.result;
    this.#progress(
      "cutover",
      `session ${open.id}: the cutover had ended (${ended}) before the daemon stopped`,
    );
    await this.cycle.recordCutover(open, settled);
    return this.sessions.open();
  }

  /** Finish (or roll back) a cutover a previous daemon left running. */
  async resume(op: OperationLog): Promise<CutoverOutcome> {
    const sessions = await this.sessions.list(5);
    // Journaled before its session named it (an older daemon): the open session whose cutover runs.
    const session =
      sessions.find((s) => s.phases.cutover?.operationId === op.id) ??
      sessions.find(
        (s) => isOpen(s) && s.phases.cutover?.state === "running" && !s.phases.cutover.operationId,
      );
    if (!session?.plan) {
      await op.finish(false, "no patch session names this cutover");
      throw new IllegalStateError(`cutover ${op.id}: no patch session names it`);
    }
    const outcome = await resumeCutover(op, session.plan, this.#cutoverDeps(session), {
      noRestart: op.record.targets.includes(NO_RESTART),
    });
    await this.#end(op, outcome, (ended) => this.cycle.recordCutover(session, ended));
    return outcome;
  }

  async #cutover(
    session: PatchSessionRecord,
    plan: CutoverPlanRecord,
    opts: CutoverOptions,
    settle: CutoverSettle,
  ): Promise<PhaseResult> {
    const { writer, instance } = this.#parts;
    const targets = [`session ${session.id}`, ...(opts.noRestart ? [NO_RESTART] : [])];
    const { log: op, written } = OperationLog.open(writer, instance, "cutover", targets, [
      { action: "cutover", components: plan.components.map((c) => c.name) },
    ]);
    // The operation and the session naming it commit together (same turn: one transaction).
    session.phases.cutover = { ...session.phases.cutover!, operationId: op.id };
    await Promise.all([written, this.sessions.put(session)]);
    let outcome: CutoverOutcome;
    try {
      // Lifecycle operations on the same components run before or after it, never during it.
      const ticket = {
        id: op.id,
        kind: "cutover" as const,
        targets,
        components: new Set(plan.components.map((c) => c.name)),
      };
      // Checked in the same turn as it queues: once `down` is asked, it withdraws queued cutovers.
      if (this.#parts.downAsked()) throw downRefusal();
      ({ value: outcome } = await this.#parts.queue.submit(ticket, () =>
        runCutover(op, plan, this.#cutoverDeps(session, opts), { noRestart: opts.noRestart ?? false }),
      ));
    } catch (err) {
      await Promise.all([op.finish(false, (err as Error).message), settle(err as Error)]);
      throw err;
    }
    return this.#end(op, outcome, settle);
  }

  /**
   * The end of a cutover: its operation and its session are written in the same turn, so they
   * commit in one transaction — a daemon killed there leaves both ended or both running (resumed).
   */
  async #end(op: OperationLog, outcome: CutoverOutcome, settle: CutoverSettle): Promise<PhaseResult> {
    const rolledBack = outcome.result === "rolled-back";
    const [, result] = await Promise.all([
      op.finish(!rolledBack, rolledBack ? outcome.reason : null),
      settle(outcome),
    ]);
    return result;
  }

  #cutoverDeps(session: PatchSessionRecord, opts: CutoverOptions = {}): CutoverDeps {
    const { supervisor, edge, jobs } = this.#parts;
    const layout = this.layout;
    return {
      supervisor,
      routing: edge,
      editions: {
        // Real paths, as a re-adopted replica's edition is read from /proc (lifecycle/replica).
        runDir: realpathSync(layout.dir(session.runEdition)),
        patchDir: realpathSync(layout.dir(session.patchEdition)),
        promote: async () => {
          if (layout.read().run !== session.patchEdition) await layout.swap();
        },
      },
      jobs: {
        quiesce: () => this.#quiesce(opts),
        release: () => jobs.release(),
      },
      progress: (message) => this.#progress("cutover", message),
      commit: opts.commit,
    };
  }

  /** Refuse new job runs; wait for the ones in progress, then cancel them or refuse the cutover. */
  async #quiesce(opts: CutoverOptions): Promise<void> {
    const { jobs } = this.#parts;
    jobs.hold(
      jobs.jobs.map((j) => j.name),
      "a cutover is under way",
    );
    const running = jobs.running();
    if (running.length === 0) return;
    const waitMs = opts.waitJobsMs ?? WAIT_JOBS_MS;
    this.#progress("cutover", `waiting up to ${formatMs(waitMs)} for ${running.length} job run(s) to finish`);
    const settled = jobs.settle(running.map((r) => r.job)).then(() => true);
    const timedOut = new Promise<false>((r) => setTimeout(() => r(false), waitMs).unref());
    if (await Promise.race([settled, timedOut])) return;
    const still = jobs.running();
    if (!opts.cancelJobs)
      throw new IllegalStateError(
        `${still.length} job run(s) still running after ${formatMs(waitMs)} (${still.map((r) => r.id).join(", ")}); nothing was changed: wait longer with \`--wait-jobs\`, or add \`--cancel-jobs\``,
        { running: still.map((r) => r.id) },
      );
    this.#progress("cutover", `cancelling ${still.length} job run(s) still running`);
    await Promise.all(still.map((r) => jobs.cancel(r.id, "cancelled for a cutover (--cancel-jobs)")));
  }

  #holdJobs(why: string): void {
    const { jobs } = this.#parts;
    jobs.hold(
      jobs.jobs.filter((j) => j.duringPatching === "hold").map((j) => j.name),
      why,
    );
  }

  #progress(phase: PatchPhase, message: string): void {
    this.#parts.bus.emit("operation:step", {
      operation: `patch ${phase}`,
      step: "progress",
      message,
      at: Date.now(),
    });
  }
}
