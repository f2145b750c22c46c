/**
 * The state writer over a real (in-memory SQLite) store behind a switch that makes it unreachable:
 * group commit, what happens to writes while the store cannot be reached, and refused records.
 */
import { describe, expect, it } from "vitest";

import { StoreUnreachableError, StoreWriteError } from "../../src/store/errors.js";
import type { StateBatch } from "../../src/store/records.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { StateWriter, type StoreRestored } from "../../src/store/state-writer.js";
import {
  componentRecord,
  fullJobRunRecord,
  fullReplicaRecord,
  jobRunRecord,
  fullPatchSessionRecord,
  maintenanceRecord,
  operationRecord,
  patchApplicationRecord,
  patchEditionRecord,
  patchSessionRecord,
  replicaRecord,
  stepRecord,
  T0,
} from "./fixtures/records.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A store that records every commit it is asked for, and refuses to answer while `down`. */
class SwitchedStore implements StateStore {
  readonly kind = "sqlite" as const;
  readonly location = "switched";
  readonly inner = SqliteStore.open(":memory:");
  down = false;
  /** Every batch handed to `commit`, with when, and whether the store was down. */
  readonly attempts: { batch: StateBatch; at: number; down: boolean }[] = [];
  readDaemon = () => this.inner.readDaemon();
  listComponents = () => this.inner.listComponents();
  listReplicas = () => this.inner.listReplicas();
  listOperations = () => this.inner.listOperations();
  listSteps = (id: string) => this.inner.listSteps(id);
  listJobRuns = (job?: string, limit?: number) => this.inner.listJobRuns(job, limit);
  listRunningJobRuns = () => this.inner.listRunningJobRuns();
  readMaintenance = () => this.inner.readMaintenance();
  listPatchSessions = (limit?: number) => this.inner.listPatchSessions(limit);
  readPatchSession = (id: number, node: string) => this.inner.readPatchSession(id, node);
  listPatchApplications = (filter?: { session?: number; node?: string }) =>
    this.inner.listPatchApplications(filter);
  listPatchEditions = (node?: string) => this.inner.listPatchEditions(node);
  listTokens = () => this.inner.listTokens();
  clearVolatile = (keep?: number) => this.inner.clearVolatile(keep);
  close = () => this.inner.close();
  async commit(batch: StateBatch): Promise<void> {
    this.attempts.push({ batch: structuredClone(batch), at: Date.now(), down: this.down });
    if (this.down) throw new StoreUnreachableError(this.location, "commit", "connection refused (test)");
    await this.inner.commit(batch);
  }
  /** The batches that reached the store. */
  get commits(): StateBatch[] {
    return this.attempts.filter((a) => !a.down).map((a) => a.batch);
  }
}

function setup(opts: { retryInitialMs?: number; retryMaxMs?: number } = {}) {
  const store = new SwitchedStore();
  const errors: unknown[] = [];
  const restored: StoreRestored[] = [];
  const writer = new StateWriter(store, (err) => errors.push(err), {
    onRestored: (r) => restored.push(r),
    retryInitialMs: opts.retryInitialMs ?? 5,
    retryMaxMs: opts.retryMaxMs ?? 20,
  });
  return { store, writer, errors, restored };
}

/** Whether `p` has settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>, ms = 30): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await sleep(ms);
  return done;
}

describe("StateWriter", () => {
  it("commits everything changed in one turn as one batch, and each put resolves after it", async () => {
    const { store, writer } = setup();
    const puts = [
      writer.putComponent(componentRecord()),
      writer.putReplica(replicaRecord({ index: 0 })),
      writer.putReplica(replicaRecord({ index: 1 })),
      writer.putOperation(operationRecord()),
      writer.putStep(stepRecord()),
    ];
    await Promise.all(puts);
    expect(store.commits).toHaveLength(1);
    expect(await store.listReplicas()).toHaveLength(2);
    expect(await store.listSteps(operationRecord().id)).toStrictEqual([stepRecord()]);
  });

  describe("job runs and the maintenance record", () => {
    it("are committed with everything else changed in the same turn", async () => {
      const { store, writer } = setup();
      await Promise.all([
        writer.putReplica(replicaRecord({ state: "offline" })),
        writer.putJobRun(jobRunRecord({ id: "run-1" })),
        writer.putMaintenance(maintenanceRecord()),
        writer.putJobRun(jobRunRecord({ id: "run-2", startedAt: T0 + 21 })),
      ]);
      expect(store.commits).toStrictEqual([
        expect.objectContaining({
          replicas: [replicaRecord({ state: "offline" })],
          jobRuns: [jobRunRecord({ id: "run-1" }), jobRunRecord({ id: "run-2", startedAt: T0 + 21 })],
          maintenance: maintenanceRecord(),
        }),
      ]);
      expect((await store.listJobRuns()).map((r) => r.id)).toStrictEqual(["run-2", "run-1"]);
      expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord());
    });

    it("a run queued twice is written once, in its latest form", async () => {
      const { store, writer } = setup();
      const ended = fullJobRunRecord({ state: "succeeded", exitCode: 0, signal: null });
      const puts = [
        writer.putJobRun(jobRunRecord()),
        writer.putJobRun(jobRunRecord({ id: "run-other", job: "report" })),
        writer.putJobRun(ended),
      ];
      await Promise.all(puts);
      expect(store.commits).toHaveLength(1);
      expect(store.commits[0]!.jobRuns).toStrictEqual([
        ended,
        jobRunRecord({ id: "run-other", job: "report" }),
      ]);
      expect(await store.listJobRuns("backup")).toStrictEqual([ended]);
    });

    it("the last maintenance value queued wins, a deletion (null) included", async () => {
      const { store, writer } = setup();
      await writer.putMaintenance(maintenanceRecord());

      void writer.putMaintenance(maintenanceRecord({ components: ["web"], updatedAt: T0 + 40 }));
      await writer.putMaintenance(null);
      expect(store.commits.at(-1)).toMatchObject({ maintenance: null });
      expect(await store.readMaintenance()).toBeUndefined();

      void writer.putMaintenance(null);
      await writer.putMaintenance(maintenanceRecord({ updatedAt: T0 + 50 }));
      expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord({ updatedAt: T0 + 50 }));
      expect(store.commits).toHaveLength(3);
    });

    it("a batch that does not touch maintenance leaves the record alone", async () => {
      const { store, writer } = setup();
      await writer.putMaintenance(maintenanceRecord());
      await writer.putJobRun(jobRunRecord());
      expect(store.commits.at(-1)).not.toHaveProperty("maintenance");
      expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord());
    });

    it("writes the maintenance lists as they were when queued", async () => {
      const { store, writer } = setup();
      const record = maintenanceRecord({ components: ["web"] });
      const put = writer.putMaintenance(record);
      record.components.push("engine");
      record.pausedSchedules.length = 0;
      await put;
      expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord({ components: ["web"] }));
    });

    it("are kept across an outage and flushed, latest forms, with the rest", async () => {
      const { store, writer, errors, restored } = setup();
      await writer.putMaintenance(maintenanceRecord());
      store.down = true;

      const queued = [
        writer.putJobRun(jobRunRecord({ id: "run-1", pid: 100 })),
        writer.putMaintenance(
          maintenanceRecord({ components: ["web", "engine", "cache"], updatedAt: T0 + 40 }),
        ),
        writer.putReplica(replicaRecord({ state: "offline" })),
      ];
      await sleep(30);
      const ended = fullJobRunRecord({ id: "run-1", state: "cancelled" });
      queued.push(
        writer.putJobRun(jobRunRecord({ id: "run-2", startedAt: T0 + 60 })),
        writer.putJobRun(ended),
      );
      await sleep(30);
      queued.push(writer.putMaintenance(null));
      await sleep(30);
      expect(await settled(Promise.race(queued))).toBe(false);
      expect(errors).toHaveLength(1);

      store.down = false;
      await Promise.all(queued);
      // two runs, the replica, the maintenance record
      expect(restored).toStrictEqual([{ writes: 4, outageMs: expect.any(Number) }]);
      const batch = store.commits.at(-1)!;
      expect(batch.jobRuns).toStrictEqual([ended, jobRunRecord({ id: "run-2", startedAt: T0 + 60 })]);
      expect(batch.maintenance).toBeNull();
      expect(await store.readMaintenance()).toBeUndefined();
      expect(await store.listRunningJobRuns()).toStrictEqual([
        jobRunRecord({ id: "run-2", startedAt: T0 + 60 }),
      ]);
    });

    it("a refused run is reported and its batch dropped, then the writer goes on", async () => {
      const { store, writer, errors } = setup();
      const bad = { ...jobRunRecord({ id: "run-bad" }), state: "done" } as unknown as ReturnType<
        typeof jobRunRecord
      >;
      void writer.putMaintenance(maintenanceRecord());
      await writer.putJobRun(bad);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(StoreWriteError);
      expect(errors[0]).toMatchObject({ code: "STW-2005", details: { at: "job run run-bad" } });
      expect(await store.readMaintenance()).toBeUndefined();
      await writer.putJobRun(jobRunRecord());
      expect(await store.listJobRuns()).toStrictEqual([jobRunRecord()]);
    });
  });

  describe("patch records", () => {
    it("are committed with everything else changed in the same turn, after job runs", async () => {
      const { store, writer } = setup();
      await Promise.all([
        writer.putPatchEdition(patchEditionRecord()),
        writer.putJobRun(jobRunRecord()),
        writer.putPatchApplication(patchApplicationRecord()),
        writer.putPatchSession(patchSessionRecord()),
        writer.putMaintenance(maintenanceRecord()),
      ]);
      expect(store.commits).toHaveLength(1);
      expect(Object.keys(store.commits[0]!).filter((k) => /jobRuns|patch|maintenance/.test(k))).toStrictEqual(
        ["jobRuns", "patchSessions", "patchApplications", "patchEditions", "maintenance"],
      );
      expect(await store.listPatchSessions()).toStrictEqual([patchSessionRecord()]);
      expect(await store.listPatchApplications()).toStrictEqual([patchApplicationRecord()]);
      expect(await store.listPatchEditions()).toStrictEqual([patchEditionRecord()]);
    });

    it("are kept across an outage and flushed, each in its latest form, in first-queued order", async () => {
      const { store, writer, errors, restored } = setup();
      store.down = true;
      const queued = [
        writer.putPatchSession(patchSessionRecord({ id: 2 })),
        writer.putPatchSession(patchSessionRecord({ id: 1 })),
        writer.putPatchApplication(patchApplicationRecord()),
      ];
      await sleep(30);
      const applied = patchApplicationRecord({ state: "done", stepsDone: 3, finishedAt: T0 + 52 });
      const cutOver = fullPatchSessionRecord({ id: 2, status: "completed" });
      queued.push(
        writer.putPatchApplication(applied),
        writer.putPatchSession(cutOver),
        writer.putPatchEdition(patchEditionRecord({ needsResync: true })),
      );
      await sleep(30);
      expect(await settled(Promise.race(queued))).toBe(false);
      expect(errors).toHaveLength(1);

      store.down = false;
      await Promise.all(queued);
      expect(restored).toStrictEqual([{ writes: 4, outageMs: expect.any(Number) }]);
      const batch = store.commits.at(-1)!;
      expect(batch.patchSessions).toStrictEqual([cutOver, patchSessionRecord({ id: 1 })]);
      expect(batch.patchApplications).toStrictEqual([applied]);
      expect(await store.listPatchSessions()).toStrictEqual([cutOver, patchSessionRecord({ id: 1 })]);
      expect(await store.listPatchEditions()).toStrictEqual([patchEditionRecord({ needsResync: true })]);
    });
  });

  it("still works with the two-argument constructor", async () => {
    const store = new SwitchedStore();
    const writer = new StateWriter(store, () => undefined);
    await writer.putReplica(replicaRecord());
    expect(await store.listReplicas()).toStrictEqual([replicaRecord()]);
  });

  describe("a store that cannot be reached", () => {
    it("holds the writes, retries with backoff, reports once, then flushes everything in first-queued order", async () => {
      const { store, writer, errors, restored } = setup();
      await writer.putReplica(replicaRecord({ index: 0, state: "ready" }));
      store.down = true;

      const queued = [
        writer.putReplica(replicaRecord({ index: 1, state: "starting" })),
        writer.putOperation(operationRecord()),
        writer.putStep(stepRecord({ seq: 1 })),
      ];
      await sleep(40);
      queued.push(
        writer.putReplica(replicaRecord({ index: 0, state: "crashed", restarts: 1 })),
        writer.putStep(stepRecord({ seq: 2, name: "start" })),
      );
      await sleep(40);
      const last0 = fullReplicaRecord({ index: 0, state: "ready", restarts: 1, updatedAt: T0 + 90 });
      const last1 = replicaRecord({ index: 1, state: "ready", updatedAt: T0 + 91 });
      const step1 = stepRecord({ seq: 1, status: "done", finishedAt: T0 + 92 });
      queued.push(writer.putReplica(last0), writer.putStep(step1), writer.putReplica(last1));
      const flushed = writer.flush();

      await sleep(60);
      expect(await settled(Promise.race(queued))).toBe(false);
      expect(await settled(flushed)).toBe(false);
      expect(store.attempts.filter((a) => a.down).length).toBeGreaterThanOrEqual(4);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(StoreUnreachableError);
      expect(restored).toStrictEqual([]);

      store.down = false;
      await flushed;
      await Promise.all(queued);
      expect(restored).toStrictEqual([{ writes: 5, outageMs: expect.any(Number) }]);
      expect(restored[0]!.outageMs).toBeGreaterThanOrEqual(100);
      expect(errors).toHaveLength(1);

      // One merged batch: each record in its latest form, in the order it was first queued.
      const batch = store.commits.at(-1)!;
      expect(batch.replicas).toStrictEqual([last1, last0]);
      expect(batch.operations).toStrictEqual([operationRecord()]);
      expect(batch.steps).toStrictEqual([step1, stepRecord({ seq: 2, name: "start" })]);
      expect(await store.listReplicas()).toStrictEqual([last0, last1]);
    });

    it("after stopWaiting (down), nobody waits for it — the writes stay queued and reach it when it answers", async () => {
      const { store, writer } = setup();
      store.down = true;
      const held = writer.putReplica(replicaRecord({ index: 0, state: "stopping" }));
      await sleep(30);
      expect(writer.unreachable).toBe(true);
      expect(await settled(held)).toBe(false);

      expect(writer.stopWaiting()).toBe(true);
      expect(await settled(held)).toBe(true);
      expect(await settled(writer.putStep(stepRecord({ seq: 1 })))).toBe(true);
      expect(await settled(writer.flush())).toBe(true);
      expect(store.commits).toStrictEqual([]);

      store.down = false;
      await sleep(60);
      expect(writer.unreachable).toBe(false);
      expect(store.commits.at(-1)!.steps).toStrictEqual([stepRecord({ seq: 1 })]);
      expect((await store.listReplicas()).map((r) => r.state)).toStrictEqual(["stopping"]);
    });

    it("stopWaiting with the store answering: writes are committed before they resolve; once it is lost, no wait", async () => {
      const { store, writer } = setup();
      expect(writer.stopWaiting()).toBe(false);
      await writer.putReplica(replicaRecord({ index: 0 }));
      expect(store.commits).toHaveLength(1);
      store.down = true;
      const lost = writer.putReplica(replicaRecord({ index: 1 }));
      expect(await settled(lost)).toBe(true); // released by the first commit that could not reach it
      expect(store.attempts.at(-1)!.down).toBe(true);
      expect(store.commits).toHaveLength(1);
    });

    it("waits longer each time, doubling up to the longest wait", async () => {
      const { store, writer } = setup({ retryInitialMs: 10, retryMaxMs: 40 });
      store.down = true;
      void writer.putReplica(replicaRecord());
      await sleep(300);
      store.down = false;
      await writer.flush();
      const at = store.attempts.filter((a) => a.down).map((a) => a.at);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(gaps.length).toBeGreaterThanOrEqual(4);
      expect(gaps[0]).toBeGreaterThanOrEqual(9);
      expect(gaps[1]).toBeGreaterThanOrEqual(19);
      for (const gap of gaps.slice(2)) {
        expect(gap).toBeGreaterThanOrEqual(39);
        expect(gap).toBeLessThan(40 + 50);
      }
    });

    it("keeps a deletion queued after a put, and a put queued after a deletion", async () => {
      const { store, writer } = setup();
      await writer.putReplica(replicaRecord({ index: 0 }));
      await writer.putReplica(replicaRecord({ index: 1 }));
      store.down = true;
      void writer.putReplica(replicaRecord({ index: 0, state: "stopping" }));
      await sleep(20);
      void writer.deleteReplica("engine", 0);
      void writer.deleteReplica("engine", 1);
      await sleep(20);
      void writer.putReplica(replicaRecord({ index: 1, state: "starting" }));
      store.down = false;
      await writer.flush();
      expect(store.commits.at(-1)).toMatchObject({
        replicas: [replicaRecord({ index: 1, state: "starting" })],
        deleteReplicas: [{ component: "engine", index: 0 }],
      });
      expect(await store.listReplicas()).toStrictEqual([replicaRecord({ index: 1, state: "starting" })]);
    });

    it("reports each outage once, and each recovery once", async () => {
      const { store, writer, errors, restored } = setup();
      for (let outage = 0; outage < 2; outage++) {
        store.down = true;
        void writer.putReplica(replicaRecord({ restarts: outage }));
        await sleep(50);
        store.down = false;
        await writer.flush();
      }
      expect(errors).toHaveLength(2);
      expect(restored).toHaveLength(2);
    });
  });

  it("reports a refused batch and drops it, then goes on", async () => {
    const { store, writer, errors, restored } = setup();
    const bad = { ...replicaRecord({ index: 3 }), state: null } as unknown as ReturnType<
      typeof replicaRecord
    >;
    await writer.putReplica(bad);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreWriteError);
    expect(restored).toStrictEqual([]);
    await writer.putReplica(replicaRecord());
    expect(await store.listReplicas()).toStrictEqual([replicaRecord()]);
  });

  it("goes on when its callbacks throw", async () => {
    const store = new SwitchedStore();
    const writer = new StateWriter(
      store,
      () => {
        throw new Error("onError failed");
      },
      {
        onRestored: () => {
          throw new Error("onRestored failed");
        },
        retryInitialMs: 5,
      },
    );
    store.down = true;
    void writer.putReplica(replicaRecord());
    await sleep(20);
    store.down = false;
    await writer.flush();
    await writer.putReplica(replicaRecord({ index: 1 }));
    expect((await store.listReplicas()).map((r) => r.index)).toStrictEqual([0, 1]);
  });
});
