/**
 * @module lifecycle/maintenance
 * Maintenance mode (design §3), the runbook of seed 000 as two commands. `on`: pause every active
 * job schedule, wait for running jobs (`during_maintenance: wait`, bounded by `--wait`) or cancel
 * them (`cancel`, or `--cancel`), then take the components (default: all, with their dependants)
 * offline in reverse dependency order through the full stop budget. `off`: start them again in
 * order and resume exactly the schedules `on` paused. The maintenance record is written before
 * anything is paused, so a daemon crash in between loses nothing: the next daemon keeps those
 * schedules paused and those components offline until `off`.
 */
import { formatMs } from "../process/duration.js";
import { IllegalStateError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import type { OperationLog } from "../recovery/journal.js";
import type { MaintenanceRecord, OperationPhase } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import type { StateWriter } from "../store/state-writer.js";
import type { JobRunner } from "./job-runner.js";
import type { OperationResult, Supervisor } from "./supervisor.js";

export interface MaintenanceOptions {
  /** How long to wait for running jobs whose `during_maintenance` is `wait`; then they are cancelled. */
  waitMs?: number;
  /** Cancel every running job at once, whatever its `during_maintenance`. */
  cancel?: boolean;
}

export interface MaintenanceDeps {
  supervisor: Supervisor;
  jobs: JobRunner;
  store: Pick<StateStore, "readMaintenance">;
  writer: StateWriter;
  bus: EventBus;
  /** Runs a journaled operation's plan and records its end (the daemon's `run` path). */
  execute(log: OperationLog): Promise<OperationResult>;
}

export class Maintenance {
  readonly #deps: MaintenanceDeps;

  constructor(deps: MaintenanceDeps) {
    this.#deps = deps;
  }

  /**
   * `maintenance on`, journaled under `log` (its plan: `supervisor.plan("maintenance-on", …)`).
   * Resumed after a crash, it finds its own record (written after the operation began) and only
   * finishes taking the components offline.
   */
  async on(log: OperationLog, opts: MaintenanceOptions = {}): Promise<OperationResult> {
    const { jobs, writer } = this.#deps;
    const current = await this.#deps.store.readMaintenance();
    // Its own record, written before a crash: only a resumed operation can have one. A fresh one
    // asked while another `on` ran finds that one's record, written after it was asked: refused.
    if (current && log.record.resumes > 0 && current.startedAt >= log.record.startedAt)
      return this.#deps.execute(log);
    if (current)
      throw new IllegalStateError(
        `already in maintenance since ${new Date(current.startedAt).toISOString()} ` +
          `(offline: ${current.components.join(", ") || "none"}); run \`steward maintenance off\` first`,
        { components: current.components },
      );
    const paused = jobs.activeSchedules();
    const now = Math.max(Date.now(), log.record.startedAt);
    const record: MaintenanceRecord = {
      components: log.record.plan[0]?.components ?? [],
      pausedSchedules: paused,
      startedAt: now,
      updatedAt: now,
    };
    await writer.putMaintenance(record);
    jobs.pauseSchedules(paused);
    this.#progress(`paused ${paused.length} job schedule(s)${paused.length ? `: ${paused.join(", ")}` : ""}`);
    await this.#settleJobs(opts);
    return this.#deps.execute(log);
  }

  async #settleJobs(opts: MaintenanceOptions): Promise<void> {
    const { jobs } = this.#deps;
    const runs = jobs.running();
    const cancelNow = runs.filter(
      (r) => opts.cancel || jobs.jobs.find((j) => j.name === r.job)?.duringMaintenance === "cancel",
    );
    const waitFor = runs.filter((r) => !cancelNow.includes(r));
    await Promise.all(cancelNow.map((r) => jobs.cancel(r.id, "maintenance")));
    if (cancelNow.length > 0)
      this.#progress(`cancelled ${cancelNow.length} job run(s): ${cancelNow.map((r) => r.id).join(", ")}`);
    if (waitFor.length === 0) return;
    const limit = opts.waitMs;
    this.#progress(
      `waiting for ${waitFor.length} job run(s) to finish${limit === undefined ? "" : ` (at most ${formatMs(limit)})`}: ${waitFor.map((r) => r.id).join(", ")}`,
    );
    const all = Promise.all(waitFor.map((r) => jobs.whenDone(r.id)));
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      all.then(() => false),
      ...(limit === undefined
        ? []
        : [new Promise<boolean>((r) => (timer = setTimeout(() => r(true), limit)))]),
    ]);
    clearTimeout(timer);
    if (!expired) return;
    const left = jobs.running().filter((r) => waitFor.some((w) => w.id === r.id));
    this.#progress(`${left.length} job run(s) did not finish within ${formatMs(limit!)}: cancelling them`);
    await Promise.all(
      left.map((r) => jobs.cancel(r.id, `maintenance: did not finish within ${formatMs(limit!)}`)),
    );
  }

  /**
   * `maintenance off`, journaled under `log`; its plan is made now, from the maintenance record.
   * Resumed after a crash that came after the record was deleted, there is nothing left to do.
   */
  async off(log: OperationLog): Promise<OperationResult> {
    const { supervisor, jobs, writer } = this.#deps;
    const record = await this.#deps.store.readMaintenance();
    if (!record && log.record.resumes > 0)
      return { application: supervisor.topology.name, ok: true, components: [] };
    if (!record)
      throw new IllegalStateError(
        "not in maintenance: nothing to restore (`steward maintenance on` starts it)",
      );
    const known = record.components.filter((c) => supervisor.components.some((r) => r.spec.name === c));
    await log.replan(known.length > 0 ? supervisor.plan("maintenance-off", known) : []);
    const result = await this.#deps.execute(log);
    if (!result.ok) return result; // still in maintenance: schedules stay paused, the record stays
    jobs.resumeSchedules(record.pausedSchedules);
    await writer.putMaintenance(null);
    this.#progress(
      `resumed ${record.pausedSchedules.length} job schedule(s)${record.pausedSchedules.length ? `: ${record.pausedSchedules.join(", ")}` : ""}; maintenance is off`,
    );
    return result;
  }

  /**
   * A `start` or `restart` asked during maintenance brings its components back (the last operation
   * asked wins): whatever its plan starts leaves the maintenance record, so `maintenance off`, `up`
   * and the next daemon's edge no longer hold it offline. The record, with its paused schedules,
   * stays until `maintenance off`. Written (durably) before the operation starts anything.
   */
  async release(plan: readonly OperationPhase[]): Promise<void> {
    const record = await this.#deps.store.readMaintenance();
    if (!record) return;
    const starting = new Set(plan.filter((p) => p.action !== "stop").flatMap((p) => p.components));
    const back = record.components.filter((c) => starting.has(c));
    if (back.length === 0) return;
    const left = record.components.filter((c) => !starting.has(c));
    await this.#deps.writer.putMaintenance({ ...record, components: left, updatedAt: Date.now() });
    this.#progress(
      `in maintenance: ${back.join(", ")} brought back, no longer held offline by it` +
        `${left.length ? ` (${left.join(", ")} still are)` : ""}; job schedules stay paused until \`steward maintenance off\``,
    );
  }

  #progress(message: string): void {
    this.#deps.bus.emit("operation:step", {
      operation: "maintenance",
      step: "progress",
      message,
      at: Date.now(),
    });
  }
}
