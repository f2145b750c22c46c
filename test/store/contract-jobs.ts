/**
 * @module test/store/contract-jobs
 * The jobs and maintenance part of the store contract (`./contract.ts`): job runs upsert by id and
 * list newest first (by start time, then id in code-point order), running ones oldest first; the one
 * maintenance record is written, replaced and deleted (`null`) with the rest of a batch, atomically;
 * `clearVolatile` keeps each job's newest 100 finished runs, every running run and the maintenance
 * record.
 */
import { beforeEach, describe, expect, it } from "vitest";

import type { JobRunRecord, JobRunState, StateBatch } from "../../src/store/records.js";
import type { StateStore } from "../../src/store/state-store.js";
import {
  broken,
  daemonRecord,
  fullJobRunRecord,
  fullReplicaRecord,
  jobRunRecord,
  maintenanceRecord,
  operationRecord,
  replicaRecord,
  T0,
} from "./fixtures/records.js";

/** A finished run of `job` started at `T0 + at`, with an id that sorts by `n`. */
function finishedRun(job: string, n: number, at: number, over: Partial<JobRunRecord> = {}): JobRunRecord {
  return jobRunRecord({
    id: `run-${job}-${String(n).padStart(4, "0")}`,
    job,
    state: "succeeded",
    startedAt: T0 + at,
    finishedAt: T0 + at + 1,
    exitCode: 0,
    reason: "exited with code 0",
    ...over,
  });
}

/** Registers the job and maintenance cases; `current` returns the fresh store of the running case. */
export function jobsContract(current: () => StateStore): void {
  describe("job runs and maintenance", () => {
    let store: StateStore;
    beforeEach(() => {
      store = current();
    });

    const ids = async (job?: string, limit?: number) =>
      (await store.listJobRuns(job, limit)).map((r) => r.id);
    const runningIds = async () => (await store.listRunningJobRuns()).map((r) => r.id);

    it("start empty", async () => {
      expect(await store.listJobRuns()).toStrictEqual([]);
      expect(await store.listJobRuns("backup")).toStrictEqual([]);
      expect(await store.listRunningJobRuns()).toStrictEqual([]);
      expect(await store.readMaintenance()).toBeUndefined();
    });

    describe("job runs", () => {
      it("round-trip every field set, and every nullable field null", async () => {
        const full = fullJobRunRecord({ id: "run-full" });
        const bare = jobRunRecord({ id: "run-bare", startedAt: T0 + 21 });
        await store.commit({ jobRuns: [full, bare] });
        expect(await store.listJobRuns()).toStrictEqual([bare, full]);
        expect(await store.listRunningJobRuns()).toStrictEqual([bare]);
      });

      it("upsert by id, replacing every field, including back to null", async () => {
        const started = jobRunRecord({ pid: 40_001, pgid: 40_001, startTime: 2 ** 33 });
        await store.commit({ jobRuns: [started] });
        const ended = fullJobRunRecord({ state: "failed", signal: null, exitCode: 3, finishedAt: T0 + 90 });
        await store.commit({ jobRuns: [ended] });
        expect(await store.listJobRuns()).toStrictEqual([ended]);

        const cleared = jobRunRecord({ state: "lost", startedAt: T0 + 5, logFile: "/tmp/other.log" });
        await store.commit({ jobRuns: [cleared] });
        expect(await store.listJobRuns()).toStrictEqual([cleared]);
        expect(await store.listRunningJobRuns()).toStrictEqual([]);
      });

      it("take every trigger and every state", async () => {
        const states: JobRunState[] = ["running", "succeeded", "failed", "cancelled", "lost"];
        const runs = states.flatMap((state, i) =>
          (["manual", "schedule"] as const).map((trigger, j) =>
            jobRunRecord({ id: `run-${i}-${j}`, trigger, state, startedAt: T0 + 10 * i + j }),
          ),
        );
        await store.commit({ jobRuns: runs });
        expect(await store.listJobRuns(undefined, 100)).toStrictEqual([...runs].reverse());
      });

      it("list newest first, then by id in code-point order descending, filtered by exact job name", async () => {
        const at = (id: string, job: string, startedAt: number) =>
          jobRunRecord({ id, job, startedAt: T0 + startedAt, state: "succeeded" });
        await store.commit({
          jobRuns: [
            at("run-b", "backup", 5),
            at("run-a", "backup", 5),
            at("run-Z", "backup", 5),
            at("run-100-10", "backup", 5),
            at("run-100-9", "backup", 5),
            at("run-old", "backup", 1),
            at("run-new", "backup", 9),
            at("run-db", "backup-db", 7),
            at("run-B", "Backup", 8),
            at("run-r", "report", 3),
          ],
        });
        expect(await ids("backup")).toStrictEqual([
          "run-new",
          "run-b",
          "run-a",
          "run-Z",
          "run-100-9",
          "run-100-10",
          "run-old",
        ]);
        expect(await ids("backup-db")).toStrictEqual(["run-db"]);
        expect(await ids("Backup")).toStrictEqual(["run-B"]);
        expect(await ids("nobody")).toStrictEqual([]);
        expect(await ids()).toStrictEqual([
          "run-new",
          "run-B",
          "run-db",
          "run-b",
          "run-a",
          "run-Z",
          "run-100-9",
          "run-100-10",
          "run-r",
          "run-old",
        ]);
      });

      it("list at most `limit` runs, 20 when none is given", async () => {
        const runs = Array.from({ length: 25 }, (_, n) => finishedRun("backup", n, n));
        await store.commit({ jobRuns: [...runs, finishedRun("report", 0, 100)] });
        const newest = (count: number) => runs.slice(-count).reverse();
        expect(await store.listJobRuns("backup")).toStrictEqual(newest(20));
        expect(await store.listJobRuns("backup", 3)).toStrictEqual(newest(3));
        expect(await store.listJobRuns("backup", 1000)).toStrictEqual(newest(25));
        expect(await store.listJobRuns("backup", 0)).toStrictEqual([]);
        expect(await ids(undefined, 2)).toStrictEqual(["run-report-0000", "run-backup-0024"]);
        expect(await store.listJobRuns()).toHaveLength(20);
      });

      it("refuse a limit that is not a whole number ≥ 0 with STW-1006", async () => {
        for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(store.listJobRuns("backup", limit)).rejects.toMatchObject({
            code: "STW-1006",
            message: expect.stringContaining("job runs `limit`: expected a whole number ≥ 0"),
          });
        }
      });

      it("list the running ones oldest first, then by id in code-point order, across jobs", async () => {
        const running = (id: string, job: string, startedAt: number) =>
          jobRunRecord({ id, job, startedAt: T0 + startedAt, pid: 100 + startedAt });
        await store.commit({
          jobRuns: [
            running("run-c", "report", 5),
            finishedRun("backup", 1, 0),
            running("run-b", "backup", 5),
            running("run-B", "backup", 5),
            running("run-late", "backup", 9),
            running("run-early", "cleanup", 1),
            finishedRun("backup", 2, 3, { state: "lost", exitCode: null }),
            finishedRun("report", 1, 2, { state: "cancelled", exitCode: null, signal: "SIGTERM" }),
          ],
        });
        expect(await runningIds()).toStrictEqual(["run-early", "run-B", "run-b", "run-c", "run-late"]);
        expect((await store.listRunningJobRuns())[0]).toStrictEqual(running("run-early", "cleanup", 1));

        await store.commit({ jobRuns: [finishedRun("x", 0, 5, { id: "run-b", job: "backup" })] });
        expect(await runningIds()).toStrictEqual(["run-early", "run-B", "run-c", "run-late"]);
      });
    });

    describe("the maintenance record", () => {
      it("is written, replaced in place and deleted with `null`", async () => {
        const on = maintenanceRecord();
        await store.commit({ maintenance: on });
        expect(await store.readMaintenance()).toStrictEqual(on);

        const more = maintenanceRecord({
          components: ["web", "engine", "cache ✓", "Zeta"],
          pausedSchedules: [],
          updatedAt: T0 + 40,
        });
        await store.commit({ maintenance: more });
        expect(await store.readMaintenance()).toStrictEqual(more);

        await store.commit({ maintenance: null });
        expect(await store.readMaintenance()).toBeUndefined();
        await store.commit({ maintenance: null }); // deleting none is harmless
        expect(await store.readMaintenance()).toBeUndefined();
      });

      it("round-trips empty lists", async () => {
        const empty = maintenanceRecord({ components: [], pausedSchedules: [] });
        await store.commit({ maintenance: empty });
        expect(await store.readMaintenance()).toStrictEqual(empty);
      });

      it("stays when a batch does not mention it", async () => {
        await store.commit({ maintenance: maintenanceRecord() });
        await store.commit({ replicas: [replicaRecord()], jobRuns: [jobRunRecord()] });
        await store.commit({ maintenance: undefined, daemon: daemonRecord() });
        expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord());
      });

      it("commits with the other records of its batch", async () => {
        const batch: StateBatch = {
          daemon: daemonRecord(),
          replicas: [fullReplicaRecord({ state: "offline" })],
          operations: [operationRecord()],
          jobRuns: [fullJobRunRecord()],
          maintenance: maintenanceRecord(),
        };
        await store.commit(batch);
        expect(await store.readDaemon()).toStrictEqual(batch.daemon);
        expect(await store.listReplicas()).toStrictEqual(batch.replicas);
        expect(await store.listOperations()).toStrictEqual(batch.operations);
        expect(await store.listJobRuns()).toStrictEqual(batch.jobRuns);
        expect(await store.readMaintenance()).toStrictEqual(batch.maintenance);

        // maintenance off: the record goes with the components' and the run's new forms
        const off: StateBatch = {
          replicas: [fullReplicaRecord({ state: "ready" })],
          jobRuns: [fullJobRunRecord({ state: "succeeded" })],
          maintenance: null,
        };
        await store.commit(off);
        expect(await store.listReplicas()).toStrictEqual(off.replicas);
        expect(await store.listJobRuns()).toStrictEqual(off.jobRuns);
        expect(await store.readMaintenance()).toBeUndefined();
      });
    });

    describe("a batch refused midway leaves nothing applied", () => {
      const seed: StateBatch = {
        replicas: [replicaRecord({ state: "ready" })],
        jobRuns: [jobRunRecord({ id: "run-seed" })],
        maintenance: maintenanceRecord(),
      };
      const good: StateBatch = {
        replicas: [fullReplicaRecord({ state: "offline" }), replicaRecord({ index: 1 })],
        operations: [operationRecord()],
        jobRuns: [
          fullJobRunRecord({ id: "run-seed", state: "cancelled" }),
          jobRunRecord({ id: "run-next", startedAt: T0 + 50 }),
        ],
        maintenance: maintenanceRecord({ components: ["engine"], updatedAt: T0 + 60 }),
      };
      const refused: [string, StateBatch, string][] = [
        [
          "a job run with an unknown state (CHECK), after valid runs, before the maintenance record",
          {
            ...good,
            jobRuns: [...good.jobRuns!, broken(jobRunRecord({ id: "run-bad" }), (r) => (r.state = "done"))],
          },
          "job run run-bad",
        ],
        [
          "a job run with an unknown trigger (CHECK)",
          {
            ...good,
            jobRuns: [broken(jobRunRecord({ id: "run-bad" }), (r) => (r.trigger = "cron")), ...good.jobRuns!],
          },
          "job run run-bad",
        ],
        [
          "a job run without a log file (NOT NULL)",
          { ...good, jobRuns: [broken(jobRunRecord({ id: "run-nolog" }), (r) => (r.logFile = null))] },
          "job run run-nolog",
        ],
        [
          "a maintenance record whose components are not a list of names, after valid runs",
          { ...good, maintenance: broken(maintenanceRecord(), (m) => (m.components = "engine")) },
          "the maintenance record",
        ],
        [
          "a maintenance record without a start time (NOT NULL)",
          { ...good, maintenance: broken(maintenanceRecord(), (m) => (m.startedAt = null)) },
          "the maintenance record",
        ],
      ];

      const everything = async () => ({
        replicas: await store.listReplicas(),
        operations: await store.listOperations(),
        jobRuns: await store.listJobRuns(),
        running: await store.listRunningJobRuns(),
        maintenance: await store.readMaintenance(),
      });

      it.each(refused)("%s: STW-2005 naming it", async (_label, bad, at) => {
        await store.commit(seed);
        const before = await everything();
        const failure = await store.commit(bad).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure).toMatchObject({ code: "STW-2005", details: { operation: "commit", at } });
        expect(await everything()).toStrictEqual(before);

        // still usable afterwards
        await store.commit(good);
        expect(await store.listJobRuns()).toStrictEqual([...good.jobRuns!].reverse());
        expect(await store.readMaintenance()).toStrictEqual(good.maintenance);
      });
    });

    describe("clearVolatile", () => {
      it("keeps each job's newest 100 finished runs, every running run and the maintenance record", async () => {
        // 105 finished backups, the oldest seven started in the same millisecond; a backup still
        // running since before all of them; three reports.
        const backups = Array.from({ length: 105 }, (_, n) => finishedRun("backup", n, n < 7 ? 10 : 10 + n));
        const stuck = jobRunRecord({ id: "run-backup-stuck", startedAt: T0, pid: 4711 });
        const reports = [0, 1, 2].map((n) => finishedRun("report", n, 500 + n, { state: "failed" }));
        const maintenance = maintenanceRecord();
        await store.commit({ jobRuns: [stuck, ...backups, ...reports], maintenance });

        await store.clearVolatile();
        // Of the seven started at T0 + 10, the two with the highest ids are among the newest 100.
        const kept = backups.slice(5);
        expect(await ids("backup", 1000)).toStrictEqual([
          ...kept.map((r) => r.id).sort((a, b) => (a < b ? 1 : -1)),
          "run-backup-stuck",
        ]);
        expect(await store.listJobRuns("backup", 1000)).toHaveLength(101);
        expect(await store.listJobRuns("report")).toStrictEqual([...reports].reverse());
        expect(await store.listRunningJobRuns()).toStrictEqual([stuck]);
        expect(await store.readMaintenance()).toStrictEqual(maintenance);

        await store.clearVolatile(); // nothing more to delete
        expect(await store.listJobRuns("backup", 1000)).toHaveLength(101);
      });

      it("keeps a job's runs when it has 100 or fewer", async () => {
        const runs = Array.from({ length: 100 }, (_, n) => finishedRun("backup", n, n));
        await store.commit({ jobRuns: runs });
        await store.clearVolatile(0);
        expect(await store.listJobRuns("backup", 1000)).toStrictEqual([...runs].reverse());
      });
    });
  });
}
