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
  fullReplicaRecord,
  operationRecord,
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
