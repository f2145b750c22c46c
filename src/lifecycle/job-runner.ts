/**
 * @module lifecycle/job-runner
 * **Jobs** (design §1): run-to-completion tasks, on demand (`steward run`) or on a cron schedule
 * (croner). Each run is its own process group with its output in
 * `<home>/logs/jobs/<job>/<run id>.log`, recorded when it starts and when it ends. At most
 * `concurrency` runs of one job at a time (default 1): a manual run beyond it is refused, a
 * scheduled one skipped and logged. Maintenance pauses schedules and waits for or cancels runs.
 */
import { join } from "node:path";
import { Cron } from "croner";
import { IllegalStateError, StewardError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import {
  isAlive,
  isMarkedGroup,
  jobMarkerEnv,
  spawnReplica,
  terminateGroup,
  watchExit,
} from "../process/index.js";
import type { JobRunRecord } from "../store/records.js";
import type { StateWriter } from "../store/state-writer.js";
import { DEFAULTS } from "../topology/defaults.js";
import { nearest } from "../topology/suggest.js";
import type { CompiledJob } from "../topology/types.js";
import { renderCommand, renderEnv } from "./render.js";

export interface JobRunnerDeps {
  home: string;
  writer: StateWriter;
  bus: EventBus;
  log: (level: "info" | "warn", message: string) => void;
  /** With `patching`: the run edition's real directory, where runs start (see `CompiledJob.editionCwd`). */
  runEdition?: () => string;
}

/** A run in progress: its record, and how it ends. */
interface LiveRun {
  record: JobRunRecord;
  done: Promise<JobRunRecord>;
  /** Set when an operator or maintenance asked it to stop. */
  cancelled?: string;
}

export class UnknownJobError extends StewardError {
  constructor(name: string, known: string[]) {
    const suggestion = nearest(name, known);
    const hint = suggestion ? ` (did you mean \`${suggestion}\`?)` : "";
    const declared =
      known.length > 0 ? `the topology declares: ${known.join(", ")}` : "the topology declares no jobs";
    super("STW-1014", `unknown job \`${name}\`${hint}; ${declared}`, {
      httpStatus: 404,
      details: { name, known, ...(suggestion ? { suggestion } : {}) },
    });
  }
}

let counter = 0;

export class JobRunner {
  readonly jobs: readonly CompiledJob[];
  readonly #deps: JobRunnerDeps;
  readonly #live = new Map<string, LiveRun>();
  readonly #schedules = new Map<string, Cron>();
  /** Jobs that may not start now, and why (a patch cycle holds `during_patching: hold` jobs). */
  readonly #held = new Map<string, string>();

  constructor(jobs: readonly CompiledJob[], deps: JobRunnerDeps) {
    this.jobs = jobs;
    this.#deps = deps;
  }

  #job(name: string): CompiledJob {
    const job = this.jobs.find((j) => j.name === name);
    if (!job)
      throw new UnknownJobError(
        name,
        this.jobs.map((j) => j.name),
      );
    return job;
  }

  /** Runs of `job` in progress (every job when omitted). */
  running(job?: string): JobRunRecord[] {
    return [...this.#live.values()].map((r) => r.record).filter((r) => job === undefined || r.job === job);
  }

  /** Process groups of runs in progress: the orphan sweep leaves them alone. */
  groups(): Set<number> {
    return new Set(this.running().flatMap((r) => (r.pgid === null ? [] : [r.pgid])));
  }

  /**
   * Start a run of `name` now; resolves with its record once it has started, `done` when it ends.
   *
   * @throws UnknownJobError (STW-1014, 404); IllegalStateError (STW-1004, 409) when `concurrency`
   *   runs are already in progress.
   */
  async start(
    name: string,
    trigger: JobRunRecord["trigger"],
  ): Promise<{ record: JobRunRecord; done: Promise<JobRunRecord> }> {
    const job = this.#job(name);
    const held = this.#held.get(name);
    if (held !== undefined)
      throw new IllegalStateError(`job \`${name}\` is held: ${held}; it can run again once that is over`, {
        job: name,
        held,
      });
    const active = this.running(name);
    if (active.length >= job.concurrency)
      throw new IllegalStateError(
        `job \`${name}\` is already running (${active.map((r) => `${r.id}, pid ${r.pid}`).join("; ")}); ` +
          `its concurrency is ${job.concurrency}: wait for it, or raise \`concurrency\` in the topology`,
        { job: name, running: active.map((r) => r.id) },
      );
    const startedAt = Date.now();
    counter += 1;
    const id = `run-${name}-${startedAt.toString(36)}-${counter}`;
    const logFile = join(this.#deps.home, "logs", "jobs", name, `${id}.log`);
    const env = {
      ...process.env,
      ...renderEnv(job.env, { home: this.#deps.home, replica: 0 }),
      ...jobMarkerEnv(this.#deps.home, name, id),
    };
    let record: JobRunRecord = {
      id,
      job: name,
      trigger,
      state: "running",
      pid: null,
      pgid: null,
      startTime: null,
      startedAt,
      finishedAt: null,
      exitCode: null,
      signal: null,
      reason: null,
      logFile,
    };
    let spawned;
    try {
      const edition = job.editionCwd !== undefined ? this.#deps.runEdition?.() : undefined;
      spawned = await spawnReplica({
        command: renderCommand(job.command, { home: this.#deps.home, replica: 0, edition }),
        cwd: edition !== undefined ? join(edition, job.editionCwd ?? ".") : job.cwd,
        env,
        logFile,
      });
    } catch (err) {
      record = {
        ...record,
        state: "failed",
        finishedAt: Date.now(),
        reason: `spawn failed: ${(err as Error).message}`,
      };
      await this.#deps.writer.putJobRun(record);
      this.#announce(record);
      return { record, done: Promise.resolve(record) };
    }
    record = { ...record, pid: spawned.pid, pgid: spawned.pgid, startTime: spawned.startTime };
    const live: LiveRun = { record, done: Promise.resolve(record) };
    live.done = new Promise<JobRunRecord>((resolve) => {
      spawned.child.once("exit", (exitCode, signal) => {
        void this.#finish(live, exitCode, signal).then(resolve);
      });
    });
    spawned.child.on("error", () => {});
    this.#live.set(id, live);
    await this.#deps.writer.putJobRun(record);
    this.#deps.bus.emit("job:started", { job: name, run: id, pid: spawned.pid, trigger, at: startedAt });
    this.#deps.log("info", `job ${name}: run ${id} started (pid ${spawned.pid}, ${trigger})`);
    return { record, done: live.done };
  }

  async #finish(live: LiveRun, exitCode: number | null, signal: string | null): Promise<JobRunRecord> {
    const { record } = live;
    const reason = live.cancelled
      ? `cancelled: ${live.cancelled}`
      : signal
        ? `killed by ${signal}`
        : exitCode === null
          ? "ended (status unknown: it was not a child of this daemon)"
          : `exited with code ${exitCode}`;
    const state: JobRunRecord["state"] = live.cancelled
      ? "cancelled"
      : exitCode === 0 && !signal
        ? "succeeded"
        : exitCode === null && !signal
          ? "lost"
          : "failed";
    const ended: JobRunRecord = { ...record, state, exitCode, signal, reason, finishedAt: Date.now() };
    live.record = ended;
    this.#live.delete(record.id);
    // Whatever the run left in its group goes with it.
    if (record.pgid !== null && isMarkedGroup(record.pgid, this.#deps.home))
      await terminateGroup(record.pgid, DEFAULTS.stop);
    await this.#deps.writer.putJobRun(ended);
    this.#announce(ended);
    return ended;
  }

  #announce(r: JobRunRecord): void {
    this.#deps.bus.emit("job:finished", {
      job: r.job,
      run: r.id,
      state: r.state,
      exitCode: r.exitCode,
      reason: r.reason,
      at: r.finishedAt ?? Date.now(),
    });
    this.#deps.log(
      r.state === "succeeded" ? "info" : "warn",
      `job ${r.job}: run ${r.id} ${r.state} (${r.reason})`,
    );
  }

  /**
   * Recovery: runs a crashed daemon left `running` are taken over when their process still runs
   * (same pid and start time; exit watched by polling, its status unknown), else recorded `lost`.
   */
  adopt(records: readonly JobRunRecord[]): { adopted: number; lost: number } {
    const counts = { adopted: 0, lost: 0 };
    for (const record of records) {
      const { pid, startTime } = record;
      if (pid === null || startTime === null || !isAlive(pid, startTime)) {
        counts.lost += 1;
        const lost: JobRunRecord = {
          ...record,
          state: "lost",
          finishedAt: Date.now(),
          reason: "ended while no daemon watched it; exit status unknown",
        };
        void this.#deps.writer.putJobRun(lost);
        continue;
      }
      counts.adopted += 1;
      const live: LiveRun = { record, done: Promise.resolve(record) };
      live.done = new Promise((resolve) =>
        watchExit(pid, startTime, () => void this.#finish(live, null, null).then(resolve)),
      );
      this.#live.set(record.id, live);
    }
    return counts;
  }

  /** Stop a run through its group: SIGTERM, grace, SIGKILL. Resolves with its final record. */
  async cancel(runId: string, why: string): Promise<JobRunRecord | undefined> {
    const live = this.#live.get(runId);
    if (!live) return undefined;
    live.cancelled = why;
    if (live.record.pgid !== null) await terminateGroup(live.record.pgid, DEFAULTS.stop);
    return live.done;
  }

  /** The final record of run `id` once it ends (undefined when it is not in progress). */
  async whenDone(id: string): Promise<JobRunRecord | undefined> {
    return this.#live.get(id)?.done;
  }

  /** Resolves when every run of `jobs` in progress now has ended. */
  async settle(jobs: readonly string[]): Promise<void> {
    await Promise.all(
      this.running()
        .filter((r) => jobs.includes(r.job))
        .map((r) => this.#live.get(r.id)?.done),
    );
  }

  /** Start the cron schedules of every scheduled job except those in `paused`. */
  startSchedules(paused: ReadonlySet<string> = new Set()): void {
    for (const job of this.jobs) {
      if (job.schedule === undefined || this.#schedules.has(job.name)) continue;
      const cron = new Cron(job.schedule, { paused: paused.has(job.name), protect: false }, () => {
        this.start(job.name, "schedule").catch((err: unknown) =>
          this.#deps.log("warn", `job ${job.name}: scheduled run skipped: ${(err as Error).message}`),
        );
      });
      this.#schedules.set(job.name, cron);
    }
  }

  /** Jobs whose schedule is active now. */
  activeSchedules(): string[] {
    return [...this.#schedules].filter(([, c]) => !c.isStopped() && c.isRunning()).map(([name]) => name);
  }

  pauseSchedules(names: readonly string[]): void {
    for (const name of names) this.#schedules.get(name)?.pause();
  }

  resumeSchedules(names: readonly string[]): void {
    for (const name of names) this.#schedules.get(name)?.resume();
  }

  /** The next time the schedule of `name` fires, or null (no schedule, or paused). */
  nextRun(name: string): number | null {
    const cron = this.#schedules.get(name);
    if (!cron || !cron.isRunning()) return null;
    return cron.nextRun()?.getTime() ?? null;
  }

  paused(name: string): boolean {
    const cron = this.#schedules.get(name);
    return cron !== undefined && !cron.isRunning() && !cron.isStopped();
  }

  /**
   * Refuse new runs of `names` (manual ones with the reason; scheduled ones are skipped and
   * logged) until `release`. Runs in progress go on.
   */
  hold(names: readonly string[], why: string): void {
    for (const name of names) this.#held.set(name, why);
  }

  release(names: readonly string[] = [...this.#held.keys()]): void {
    for (const name of names) this.#held.delete(name);
  }

  /** Held jobs and why. */
  held(): Map<string, string> {
    return new Map(this.#held);
  }

  stopSchedules(): void {
    for (const cron of this.#schedules.values()) cron.stop();
    this.#schedules.clear();
  }
}
