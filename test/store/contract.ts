/**
 * @module test/store/contract
 * The contract every `StateStore` must pass (design §4), run against SQLite (`sqlite.test.ts`) and
 * PostgreSQL (`postgres.test.ts`). Call `stateStoreContract(name, makeStore)` from a `*.test.ts` file
 * with a factory that opens a fresh, empty store. What it asks of every backend:
 * - a refused record fails the whole batch with STW-2005 (`StoreWriteError`) naming the record in
 *   `details.at`, and nothing of the batch is written;
 * - text sorts in code-point order whatever the database's locale (PostgreSQL: `COLLATE "C"`), so
 *   both backends list records in the same order;
 * - BIGINT columns (timestamps, start times beyond 2^32) read back as numbers.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { StewardError } from "../../src/errors.js";
import type { ReplicaState } from "../../src/lifecycle/replica-state.js";
import type { StateBatch } from "../../src/store/records.js";
import type { StateStore } from "../../src/store/state-store.js";
import { jobsContract } from "./contract-jobs.js";
import { journalContract } from "./contract-journal.js";
import { patchingContract } from "./contract-patching.js";
import { tokensContract } from "./contract-tokens.js";
import {
  broken,
  componentRecord,
  daemonRecord,
  exitRecord,
  fullJobRunRecord,
  fullPatchApplicationRecord,
  fullPatchSessionRecord,
  fullReplicaRecord,
  maintenanceRecord,
  patchEditionRecord,
  replicaRecord,
  T0,
} from "./fixtures/records.js";

export {
  componentRecord,
  daemonRecord,
  exitRecord,
  fullJobRunRecord,
  fullPatchApplicationRecord,
  fullPatchSessionRecord,
  fullReplicaRecord,
  jobRunRecord,
  maintenanceRecord,
  operationRecord,
  patchApplicationRecord,
  patchEditionRecord,
  patchSessionRecord,
  replicaRecord,
  stepRecord,
} from "./fixtures/records.js";

export interface StoreFixture {
  /** A fresh, empty store. */
  store: StateStore;
  /** Opens the same store again through a new connection (the test closes `store` first). */
  reopen(): Promise<StateStore>;
  /** Closes every store the fixture opened and removes what it created. */
  cleanup(): Promise<void>;
}

export function stateStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: StateStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    async function snapshot(s: StateStore = store) {
      return {
        daemon: await s.readDaemon(),
        components: await s.listComponents(),
        replicas: await s.listReplicas(),
      };
    }

    it("says what it is and where it lives", () => {
      expect(["sqlite", "postgres"]).toContain(store.kind);
      expect(store.location).toEqual(expect.any(String));
      expect(store.location.length).toBeGreaterThan(0);
    });

    it("starts empty", async () => {
      expect(await snapshot()).toStrictEqual({ daemon: undefined, components: [], replicas: [] });
      expect(await store.listOperations()).toStrictEqual([]);
    });

    describe("round-trips", () => {
      it("the daemon record, keeping exactly one", async () => {
        const first = daemonRecord();
        await store.commit({ daemon: first });
        expect(await store.readDaemon()).toStrictEqual(first);

        const second = daemonRecord({
          state: "stopped",
          pid: 99_999,
          instance: 103,
          bootKind: "recovered",
          bootedAt: T0 + 1000,
          topologyFile: "/opt/other app/steward.yaml",
          updatedAt: T0 + 2000,
        });
        await store.commit({ daemon: second });
        expect(await store.readDaemon()).toStrictEqual(second);
      });

      it("component records, updating one in place", async () => {
        const engine = componentRecord({ name: "engine", desired: "running" });
        const store_ = componentRecord({ name: "store", desired: "offline", updatedAt: T0 + 9 });
        await store.commit({ components: [store_, engine] });
        expect(await store.listComponents()).toStrictEqual([engine, store_]);

        const stopped = componentRecord({ name: "engine", desired: "stopped", updatedAt: T0 + 10 });
        await store.commit({ components: [stopped] });
        expect(await store.listComponents()).toStrictEqual([stopped, store_]);
      });

      it("every replica field set, with a forced exit", async () => {
        const r = fullReplicaRecord();
        await store.commit({ replicas: [r] });
        expect(await store.listReplicas()).toStrictEqual([r]);
      });

      it("every nullable replica field null", async () => {
        const r = replicaRecord();
        await store.commit({ replicas: [r] });
        expect(await store.listReplicas()).toStrictEqual([r]);
      });

      it("an orderly exit: exit code 0, no signal, not forced", async () => {
        const lastExit = exitRecord({
          exitCode: 0,
          signal: null,
          reason: "exited",
          forced: false,
          durationMs: 0.5,
        });
        const r = replicaRecord({ state: "crashed", lastExit, restarts: 1 });
        await store.commit({ replicas: [r] });
        expect(await store.listReplicas()).toStrictEqual([r]);
      });

      it("an upsert replaces every field, including back to null", async () => {
        await store.commit({ replicas: [fullReplicaRecord()] });
        const cleared = replicaRecord({ state: "starting", updatedAt: T0 + 50 });
        await store.commit({ replicas: [cleared] });
        expect(await store.listReplicas()).toStrictEqual([cleared]);
      });

      it("every replica state", async () => {
        const states: ReplicaState[] = [
          "stopped",
          "starting",
          "running",
          "ready",
          "draining",
          "stopping",
          "backoff",
          "crashed",
          "failed",
          "killed",
          "offline",
        ];
        const replicas = states.map((state, index) => replicaRecord({ index, state }));
        await store.commit({ replicas });
        expect((await store.listReplicas()).map((r) => r.state)).toStrictEqual(states);
      });
    });

    it("lists replicas by component in code-point order, then by numeric index", async () => {
      const keys: [string, number][] = [
        ["engine10", 0],
        ["engine", 10],
        ["alpha", 1],
        ["engine", 2],
        ["Zeta", 0],
        ["engine-2", 0],
        ["engine", 0],
        ["a-b", 3],
        ["alpha", 0],
      ];
      await store.commit({ replicas: keys.map(([component, index]) => replicaRecord({ component, index })) });
      const listed = (await store.listReplicas()).map((r) => `${r.component}[${r.index}]`);
      expect(listed).toStrictEqual([
        "Zeta[0]",
        "a-b[3]",
        "alpha[0]",
        "alpha[1]",
        "engine[0]",
        "engine[2]",
        "engine[10]",
        "engine-2[0]",
        "engine10[0]",
      ]);
    });

    describe("commit", () => {
      it("deletes only the named replicas and ignores unknown ones", async () => {
        const replicas = [0, 1, 2].map((index) => replicaRecord({ index }));
        await store.commit({ replicas: [...replicas, replicaRecord({ component: "worker" })] });
        await store.commit({
          deleteReplicas: [
            { component: "engine", index: 1 },
            { component: "engine", index: 7 },
            { component: "nobody", index: 0 },
          ],
        });
        const listed = (await store.listReplicas()).map((r) => `${r.component}[${r.index}]`);
        expect(listed).toStrictEqual(["engine[0]", "engine[2]", "worker[0]"]);
      });

      it("applies deletes after upserts of the same batch", async () => {
        await store.commit({
          replicas: [replicaRecord({ index: 0 }), replicaRecord({ index: 1 })],
          deleteReplicas: [{ component: "engine", index: 1 }],
        });
        expect((await store.listReplicas()).map((r) => r.index)).toStrictEqual([0]);
      });

      it("applies daemon, components and replicas of one batch together", async () => {
        const batch: StateBatch = {
          daemon: daemonRecord(),
          components: [componentRecord()],
          replicas: [fullReplicaRecord(), replicaRecord({ index: 1 })],
        };
        await store.commit(batch);
        expect(await snapshot()).toStrictEqual({
          daemon: batch.daemon,
          components: batch.components,
          replicas: batch.replicas,
        });
      });

      it("treats an empty batch as nothing to do", async () => {
        await store.commit({ daemon: daemonRecord() });
        const before = await snapshot();
        await store.commit({});
        await store.commit({
          components: [],
          replicas: [],
          deleteReplicas: [],
          jobRuns: [],
          patchSessions: [],
          patchApplications: [],
          patchEditions: [],
        });
        expect(await snapshot()).toStrictEqual(before);
      });

      it("applies concurrent commits, each whole", async () => {
        await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.commit({ replicas: [replicaRecord({ index, restarts: index })] }),
          ),
        );
        const listed = await store.listReplicas();
        expect(listed.map((r) => [r.index, r.restarts])).toStrictEqual(
          Array.from({ length: 20 }, (_, i) => [i, i]),
        );
      });
    });

    describe("batch atomicity: a batch refused midway leaves nothing applied", () => {
      const seed: Required<Pick<StateBatch, "daemon" | "components" | "replicas">> = {
        daemon: daemonRecord(),
        components: [componentRecord({ name: "engine" })],
        replicas: [replicaRecord({ index: 0, state: "ready" }), replicaRecord({ index: 1, state: "ready" })],
      };
      const good = {
        daemon: daemonRecord({ state: "stopped", instance: 101 }),
        components: [
          componentRecord({ name: "engine", desired: "stopped" }),
          componentRecord({ name: "web" }),
        ],
        replicas: [fullReplicaRecord({ index: 0 }), replicaRecord({ index: 2 })],
        deleteReplicas: [{ component: "engine", index: 1 }],
      };
      const cases: [string, StateBatch][] = [
        [
          "a replica without a state (NOT NULL), after valid upserts",
          {
            ...good,
            replicas: [...good.replicas, broken(replicaRecord({ index: 3 }), (r) => (r.state = null))],
          },
        ],
        [
          "a replica with a negative index (CHECK), after valid upserts",
          { ...good, replicas: [...good.replicas, replicaRecord({ index: -1 })] },
        ],
        [
          "a replica whose `invalidated` is not a boolean",
          {
            ...good,
            replicas: [...good.replicas, broken(replicaRecord({ index: 4 }), (r) => (r.invalidated = "yes"))],
          },
        ],
        [
          "a component with an unknown desired state (CHECK), after the daemon",
          {
            ...good,
            components: [
              ...good.components,
              broken(componentRecord({ name: "x" }), (r) => (r.desired = "maybe")),
            ],
          },
        ],
        [
          "a daemon record without a pid (NOT NULL), with valid components and replicas",
          { ...good, daemon: broken(daemonRecord(), (r) => (r.pid = null)) },
        ],
      ];

      it.each(cases)("%s", async (_label, batch) => {
        await store.commit(seed);
        const before = await snapshot();
        const failure = await store.commit(batch).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure).toBeInstanceOf(StewardError);
        expect(failure).toMatchObject({ code: "STW-2005" });
        expect(await snapshot()).toStrictEqual(before);

        // still usable afterwards
        await store.commit(good);
        expect((await store.listReplicas()).map((r) => r.index)).toStrictEqual([0, 2]);
      });
    });

    describe("clearVolatile", () => {
      it("deletes components and replicas, keeps the daemon record", async () => {
        const daemon = daemonRecord({ state: "stopped" });
        await store.commit({
          daemon,
          components: [componentRecord({ name: "engine" }), componentRecord({ name: "web" })],
          replicas: [fullReplicaRecord(), replicaRecord({ component: "web" })],
        });
        await store.clearVolatile();
        expect(await snapshot()).toStrictEqual({ daemon, components: [], replicas: [] });
      });

      it("is harmless on an empty store", async () => {
        await store.clearVolatile();
        expect(await snapshot()).toStrictEqual({ daemon: undefined, components: [], replicas: [] });
      });
    });

    journalContract(() => store);
    jobsContract(() => store);
    patchingContract(() => store);
    tokensContract(() => store);

    describe("reopening", () => {
      it("keeps every record, and migrating again changes nothing", async () => {
        await store.commit({
          daemon: daemonRecord(),
          components: [componentRecord()],
          replicas: [fullReplicaRecord(), replicaRecord({ index: 1 })],
          jobRuns: [fullJobRunRecord()],
          patchSessions: [fullPatchSessionRecord()],
          patchApplications: [fullPatchApplicationRecord()],
          patchEditions: [patchEditionRecord()],
          maintenance: maintenanceRecord(),
        });
        const before = await snapshot();
        await store.close();

        const second = await fixture.reopen();
        expect(await snapshot(second)).toStrictEqual(before);
        expect(await second.listJobRuns()).toStrictEqual([fullJobRunRecord()]);
        expect(await second.readMaintenance()).toStrictEqual(maintenanceRecord());
        expect(await second.listPatchSessions()).toStrictEqual([fullPatchSessionRecord()]);
        expect(await second.listPatchApplications()).toStrictEqual([fullPatchApplicationRecord()]);
        expect(await second.listPatchEditions()).toStrictEqual([patchEditionRecord()]);
        await second.commit({ replicas: [replicaRecord({ index: 2 })] });
        await second.close();

        const third = await fixture.reopen();
        const after = await snapshot(third);
        expect(after.replicas.map((r) => r.index)).toStrictEqual([0, 1, 2]);
        expect(after.daemon).toStrictEqual(before.daemon);
        await third.close();
      });
    });

    describe("close", () => {
      it("is harmless twice, and a closed store refuses work with a StewardError", async () => {
        await store.close();
        await store.close();
        await expect(store.readDaemon()).rejects.toBeInstanceOf(StewardError);
        await expect(store.listReplicas()).rejects.toBeInstanceOf(StewardError);
        await expect(store.listJobRuns()).rejects.toBeInstanceOf(StewardError);
        await expect(store.listRunningJobRuns()).rejects.toBeInstanceOf(StewardError);
        await expect(store.readMaintenance()).rejects.toBeInstanceOf(StewardError);
        await expect(store.listPatchSessions()).rejects.toBeInstanceOf(StewardError);
        await expect(store.readPatchSession(1, "web-1")).rejects.toBeInstanceOf(StewardError);
        await expect(store.listPatchApplications()).rejects.toBeInstanceOf(StewardError);
        await expect(store.listPatchEditions()).rejects.toBeInstanceOf(StewardError);
        await expect(store.commit({ daemon: daemonRecord() })).rejects.toBeInstanceOf(StewardError);
        await expect(store.clearVolatile()).rejects.toBeInstanceOf(StewardError);
      });
    });
  });
}
