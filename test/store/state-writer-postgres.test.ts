/**
 * The state writer on the real PostgreSQL when its database is cut off for a while (connections
 * refused, open ones terminated; the server keeps running) and when only its connections are
 * terminated: no write is lost, none is reordered, the outage is reported once and the recovery once.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

import { StoreUnreachableError } from "../../src/store/errors.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { StateWriter, type StoreRestored } from "../../src/store/state-writer.js";
import {
  componentRecord,
  fullJobRunRecord,
  fullReplicaRecord,
  jobRunRecord,
  maintenanceRecord,
  operationRecord,
  replicaRecord,
  stepRecord,
  T0,
} from "./fixtures/records.js";
import {
  createDatabase,
  cutOff,
  dropDatabase,
  pgAdmin,
  pgUrl,
  restore,
  terminateBackends,
} from "./fixtures/postgres.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let db = "";
beforeAll(async () => {
  db = await createDatabase("writer");
});
afterAll(async () => {
  if (db !== "") await dropDatabase(db);
});

async function setup() {
  const store = await PostgresStore.open(pgUrl(db));
  const errors: unknown[] = [];
  const restored: StoreRestored[] = [];
  const writer = new StateWriter(store, (err) => errors.push(err), { onRestored: (r) => restored.push(r) });
  onTestFinished(async () => {
    await restore(db);
    await store.close();
    await pgAdmin(
      "TRUNCATE daemon, components, replicas, operations, operation_steps, job_runs, maintenance, " +
        "patch_sessions, patch_applications, patch_editions",
      [],
      db,
    );
  });
  return { store, writer, errors, restored };
}

describe("StateWriter on PostgreSQL", () => {
  it("holds writes while the database is cut off and flushes them, latest forms, once it is back", async () => {
    const { store, writer, errors, restored } = await setup();
    await writer.putReplica(replicaRecord({ index: 0, state: "ready", pid: 100 }));
    await writer.putComponent(componentRecord());

    await cutOff(db);
    const rejected: unknown[] = [];
    const track = (p: Promise<void>): Promise<void> => p.catch((err: unknown) => void rejected.push(err));
    const writes: Promise<void>[] = [];
    // A replica crashes and is restarted, twice, while an operation journals its steps.
    for (let round = 1; round <= 3; round++) {
      writes.push(
        track(writer.putReplica(replicaRecord({ index: 0, state: "crashed", pid: null, restarts: round }))),
        track(writer.putStep(stepRecord({ seq: round, status: "running", startedAt: T0 + round }))),
      );
      await sleep(150);
      writes.push(
        track(
          writer.putReplica(
            fullReplicaRecord({ index: 0, state: "ready", pid: 100 + round, restarts: round }),
          ),
        ),
        track(
          writer.putStep(
            stepRecord({ seq: round, status: "done", startedAt: T0 + round, finishedAt: T0 + 9 }),
          ),
        ),
      );
    }
    writes.push(track(writer.putOperation(operationRecord({ status: "done", finishedAt: T0 + 10 }))));
    writes.push(track(writer.putReplica(replicaRecord({ index: 1, state: "starting" }))));
    writes.push(track(writer.deleteReplica("engine", 1)));
    await sleep(400);

    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreUnreachableError);
    expect((errors[0] as Error).message).toMatch(
      new RegExp(
        `^state store ${pgUrl(db)} is unreachable \\(commit\\): .*not currently accepting connections.*; ` +
          "the daemon queues its writes and retries them until the database answers; supervision continues$",
      ),
    );
    expect(restored).toStrictEqual([]);

    await restore(db);
    await writer.flush();
    await Promise.all(writes);
    expect(rejected).toStrictEqual([]);
    expect(errors).toHaveLength(1);
    expect(restored).toHaveLength(1);
    expect(restored[0]!.writes).toBe(6); // replica 0, steps 1-3, the operation, the deletion of replica 1

    expect(await store.listReplicas()).toStrictEqual([
      fullReplicaRecord({ index: 0, state: "ready", pid: 103, restarts: 3 }),
    ]);
    expect(await store.listSteps(operationRecord().id)).toStrictEqual(
      [1, 2, 3].map((seq) => stepRecord({ seq, status: "done", startedAt: T0 + seq, finishedAt: T0 + 9 })),
    );
    expect(await store.listOperations()).toStrictEqual([
      operationRecord({ status: "done", finishedAt: T0 + 10 }),
    ]);
  });

  it("holds job runs and the maintenance record while cut off, and flushes their latest forms", async () => {
    const { store, writer, errors, restored } = await setup();
    await writer.putMaintenance(maintenanceRecord());
    await writer.putJobRun(jobRunRecord({ id: "run-1", pid: 100 }));

    await cutOff(db);
    const writes = [
      writer.putReplica(replicaRecord({ state: "offline" })),
      writer.putJobRun(fullJobRunRecord({ id: "run-1", state: "cancelled" })),
      writer.putMaintenance(
        maintenanceRecord({ components: ["web", "engine", "cache"], updatedAt: T0 + 40 }),
      ),
    ];
    await sleep(150);
    writes.push(
      writer.putJobRun(jobRunRecord({ id: "run-2", startedAt: T0 + 60 })),
      writer.putMaintenance(null),
    );
    await sleep(150);
    expect(errors).toHaveLength(1);
    expect(await store.readMaintenance().catch((err: unknown) => err)).toBeInstanceOf(StoreUnreachableError);

    await restore(db);
    await Promise.all(writes);
    expect(restored).toStrictEqual([{ writes: 4, outageMs: expect.any(Number) }]);
    expect(await store.readMaintenance()).toBeUndefined();
    expect(await store.listJobRuns()).toStrictEqual([
      jobRunRecord({ id: "run-2", startedAt: T0 + 60 }),
      fullJobRunRecord({ id: "run-1", state: "cancelled" }),
    ]);
    expect(await store.listRunningJobRuns()).toStrictEqual([
      jobRunRecord({ id: "run-2", startedAt: T0 + 60 }),
    ]);
  });

  it("commits on fresh connections when only the connections are terminated", async () => {
    const { store, writer, errors, restored } = await setup();
    await Promise.all([0, 1, 2, 3].map((index) => writer.putReplica(replicaRecord({ index }))));
    expect(await terminateBackends(db)).toBeGreaterThan(0);
    await writer.putReplica(fullReplicaRecord({ index: 0 }));
    expect(await terminateBackends(db)).toBeGreaterThan(0);
    await writer.putStep(stepRecord());
    expect(errors).toStrictEqual([]);
    expect(restored).toStrictEqual([]);
    expect((await store.listReplicas())[0]).toStrictEqual(fullReplicaRecord({ index: 0 }));
    expect(await store.listSteps(stepRecord().operationId)).toStrictEqual([stepRecord()]);
  });
});
