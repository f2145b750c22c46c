/**
 * @module patching/cycle
 * The patch cycle on one node (design §6): each phase is a method that first checks it may run
 * (patching/phase-order), records itself `running` in the session, does its work with progress
 * lines and logs under `fs_ne/logs/<session>/<phase>/`, then records `done` or `failed` with what
 * happened. A failed phase leaves state as it was and can be run again; it resumes.
 */
import { join } from "node:path";
import type { CompiledTopology, CompiledPatching } from "../topology/types.js";
import type { CutoverPlanRecord, PatchPhase, PatchSessionRecord } from "../store/records.js";
import { describePlan, planCutover } from "./cutover-plan.js";
import type { CutoverOutcome } from "./cutover.js";
import { PatchingNotConfiguredError } from "./errors.js";
import { EditionLayout } from "./layout.js";
import { assertCanRun, nextPhase } from "./phase-order.js";
import type { Sessions } from "./sessions.js";
import { syncPatchEdition } from "./sync.js";
import { applyPatches } from "./apply-phase.js";
import { checkPatchesIsolated } from "./check-isolated.js";
import type { TarLimits } from "./tar-safety.js";
import { runCommands } from "./run-commands.js";
import { cleanup, fsClone, type Housekeeping } from "./housekeeping.js";
import { checkSpace, treeSize } from "./disk.js";
import { renderCommand } from "../topology/render.js";

export interface CycleDeps {
  topology: CompiledTopology;
  sessions: Sessions;
  /** Jobs marked `during_patching: hold`, held from prepare until cutover or abort. */
  holdJobs(why: string): void;
  releaseJobs(): void;
  /** Whether a component can run two editions side by side (routed, `${port}`). */
  surge(component: string): boolean;
  /**
   * Run the cutover of `session` journaled by the daemon. `settle` records its end in the session;
   * the daemon calls it in the same turn as it ends its operation, so both commit in one
   * transaction (store/state-writer): a crash never leaves one without the other.
   */
  cutover(
    session: PatchSessionRecord,
    plan: CutoverPlanRecord,
    opts: CutoverOptions,
    settle: CutoverSettle,
  ): Promise<PhaseResult>;
  progress(phase: PatchPhase, message: string): void;
}

export interface CutoverOptions {
  noRestart?: boolean;
  /** How long to wait for running job runs (ms). */
  waitJobsMs?: number;
  /** Cancel job runs still running after `waitJobsMs` instead of refusing. */
  cancelJobs?: boolean;
  /** The cluster's commit point (`--strategy together`, patching/cutover `CutoverDeps.commit`). */
  commit?: () => Promise<string | undefined>;
}

/**
 * Records how a cutover ended in its session: an outcome, or the error it threw (the phase failed,
 * nothing changed). Queues the session's write before its first await.
 */
export type CutoverSettle = (ended: CutoverOutcome | Error) => Promise<PhaseResult>;

/** What a phase reports back: its session and one line per thing it did. */
export interface PhaseResult {
  phase: PatchPhase;
  session: number;
  ok: boolean;
  lines: string[];
  /** The phase that can run next. */
  next: string;
}

export class PatchCycle {
  readonly patching: CompiledPatching;
  readonly layout: EditionLayout;
  readonly #deps: CycleDeps;

  constructor(deps: CycleDeps) {
    if (!deps.topology.patching) throw new PatchingNotConfiguredError(deps.topology.file);
    this.patching = deps.topology.patching;
    this.layout = new EditionLayout(this.patching.root);
    this.#deps = deps;
  }

  get #sessions(): Sessions {
    return this.#deps.sessions;
  }

  async prepare(opts: { skipSyncErrors?: boolean } = {}): Promise<PhaseResult> {
    const links = this.layout.read();
    let open = await this.#sessions.open();
    assertCanRun("prepare", open);
    const lines: string[] = [];
    const pending = await this.#sessions.pendingCleanup();
    if (pending && !open) {
      this.#progress("prepare", `session ${pending.id} was not cleaned up: running its cleanup first`);
      lines.push(...(await this.cleanup({ mode: "standard" })).lines);
    }
    const runDir = this.layout.runDir();
    const patchDir = this.layout.patchDir();
    await checkSpace(this.patching.root, (await treeSize(runDir)) + this.patching.diskMarginBytes);
    let session = open ?? (await this.#sessions.create("cycle", links));
    session = await this.#sessions.begin(session, "prepare");
    open = session;
    this.#progress("prepare", `session ${session.id} open: run is ${links.run}, patch is ${links.patch}`);
    try {
      const synced = await syncPatchEdition({
        sessions: this.#sessions,
        session,
        patching: this.patching,
        runDir,
        patchDir,
        patchStore: this.layout.paths.patches,
        tmpDir: this.layout.paths.tmp,
        logDir: this.layout.logDir(session.id, "prepare"),
        skipSyncErrors: opts.skipSyncErrors ?? false,
        progress: (m) => this.#progress("prepare", m),
      });
      lines.push(synced);
      if (this.patching.customSync.length > 0) {
        const vars = { replica: 0, home: this.#deps.topology.home, edition: patchDir };
        await runCommands(
          this.patching.customSync.map((c) => renderCommand(c, vars)),
          {
            cwd: patchDir,
            env: { ...process.env, STEWARD_EDITION: patchDir },
            logDir: join(this.layout.logDir(session.id, "prepare"), "custom-sync"),
            label: "custom-sync",
          },
        );
        lines.push(`${this.patching.customSync.length} custom_sync command(s) ran in the patch edition`);
      }
    } catch (err) {
      await this.#sessions.end(session, "prepare", "failed", (err as Error).message);
      throw err;
    }
    this.#deps.holdJobs(`patch session ${session.id} is open (during_patching: hold)`);
    session = await this.#sessions.end(session, "prepare", "done", lines.join("; "));
    return this.#result("prepare", session, lines);
  }

  async apply(
    sources: string[],
    opts: { merge?: boolean; limits?: Partial<TarLimits> } = {},
  ): Promise<PhaseResult> {
    let session = await this.#sessions.open();
    assertCanRun("apply", session);
    session = await this.#sessions.begin(session!, "apply");
    try {
      const lines = await applyPatches({
        sessions: this.#sessions,
        session,
        layout: this.layout,
        sources,
        merge: opts.merge ?? false,
        ...(opts.limits ? { limits: opts.limits } : {}),
        progress: (m) => this.#progress("apply", m),
      });
      session = await this.#sessions.end(session, "apply", "done", lines.join("; "));
      return this.#result("apply", session, lines);
    } catch (err) {
      await this.#sessions.end(session, "apply", "failed", (err as Error).message);
      throw err;
    }
  }

  async finalize(): Promise<PhaseResult> {
    let session = await this.#sessions.open();
    assertCanRun("finalize", session);
    session = await this.#sessions.begin(session!, "finalize");
    const lines: string[] = [];
    try {
      const patchDir = this.layout.patchDir();
      const applied = (await this.#sessions.applications(session.id)).filter(
        (a) => a.kind === "apply" && a.state === "done",
      );
      const stored = await checkPatchesIsolated(
        applied.map((a) => join(this.layout.paths.patches, a.patchId)),
      );
      for (const [i, a] of applied.entries()) {
        const { manifest } = stored[i]!;
        if (manifest.verify.length === 0) continue;
        this.#progress("finalize", `${a.patchId}: running ${manifest.verify.length} verify command(s)`);
        await runCommands(manifest.verify, {
          cwd: patchDir,
          env: { ...process.env, STEWARD_EDITION: patchDir, STEWARD_PATCH: a.patchId },
          logDir: join(this.layout.logDir(session.id, "finalize"), a.patchId),
          label: "verify",
        });
        lines.push(`${a.patchId}: verified`);
      }
      const plan = planCutover(this.#deps.topology, this.#deps.surge);
      lines.push(...describePlan(plan));
      for (const l of describePlan(plan)) this.#progress("finalize", l);
      session = await this.#sessions.end(session, "finalize", "done", lines.join("; "), { plan });
      return this.#result("finalize", session, lines);
    } catch (err) {
      await this.#sessions.end(session, "finalize", "failed", (err as Error).message);
      throw err;
    }
  }

  async cutover(opts: CutoverOptions = {}): Promise<PhaseResult> {
    const session = await this.#sessions.open();
    assertCanRun("cutover", session);
    const begun = await this.#sessions.begin(session!, "cutover");
    return this.#deps.cutover(begun, begun.plan!, opts, (ended) => this.recordCutover(begun, ended));
  }

  /**
   * Record how a cutover ended (also for one a restarted daemon resumed or settled): an error is a
   * failed phase with nothing changed; the session's write is queued before the first await.
   */
  async recordCutover(session: PatchSessionRecord, outcome: CutoverOutcome | Error): Promise<PhaseResult> {
    if (outcome instanceof Error) {
      const s = await this.#sessions.end(session, "cutover", "failed", outcome.message);
      return { ...this.#result("cutover", s, [outcome.message]), ok: false };
    }
    if (outcome.result === "rolled-back") {
      // The session stays open (cutover can be retried, or aborted): its jobs stay held.
      this.#deps.holdJobs(`patch session ${session.id} is open (during_patching: hold)`);
      const s = await this.#sessions.end(session, "cutover", "failed", `rolled back: ${outcome.reason}`, {
        status: "cutover-rolled-back",
        reason: outcome.reason,
      });
      return { ...this.#result("cutover", s, [`rolled back: ${outcome.reason}`]), ok: false };
    }
    const detail =
      outcome.result === "stopped"
        ? `${session.patchEdition} is the run edition; services left stopped (--no-restart): start them with \`steward start\``
        : `${session.patchEdition} is the run edition (cut over in ${outcome.ms} ms)`;
    this.#deps.releaseJobs();
    const s = await this.#sessions.end(session, "cutover", "done", detail, {
      status: "completed",
      finishedAt: Date.now(),
    });
    return this.#result("cutover", s, [detail]);
  }

  /** See patching/housekeeping. */
  async cleanup(opts: { mode?: "quick" | "standard" | "full" } = {}): Promise<PhaseResult> {
    return cleanup(this.#housekeeping(), opts.mode ?? "standard");
  }

  async abort(opts: { cleanup?: boolean } = {}): Promise<PhaseResult> {
    const open = await this.#sessions.open();
    assertCanRun("abort", open);
    let session = await this.#sessions.begin(open!, "abort");
    const held = await this.#sessions.edition(session.patchEdition);
    await this.#sessions.putEdition({ ...held, needsResync: true });
    this.#deps.releaseJobs();
    session = await this.#sessions.end(session, "abort", "done", "aborted before cutover", {
      status: "aborted",
      finishedAt: Date.now(),
      reason: "aborted by the operator",
    });
    const lines = [
      `session ${session.id} aborted; the run edition was never touched`,
      `patch edition ${session.patchEdition} is marked for a full resync at the next prepare`,
    ];
    if (opts.cleanup) lines.push(...(await this.cleanup({ mode: "full" })).lines);
    return this.#result("abort", session, lines);
  }

  /** See patching/housekeeping. */
  async fsClone(opts: { force?: boolean } = {}): Promise<PhaseResult> {
    return fsClone(this.#housekeeping(), opts.force ?? false);
  }

  #housekeeping(): Housekeeping {
    return {
      sessions: this.#sessions,
      layout: this.layout,
      patching: this.patching,
      progress: (phase, m) => this.#progress(phase, m),
    };
  }

  #progress(phase: PatchPhase, message: string): void {
    this.#deps.progress(phase, message);
  }

  #result(phase: PatchPhase, session: PatchSessionRecord, lines: string[]): PhaseResult {
    return { phase, session: session.id, ok: true, lines, next: nextPhase(session) };
  }
}
