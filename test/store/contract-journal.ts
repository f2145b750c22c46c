/**
 * @module test/store/contract-journal
 * The operation journal part of the store contract (`./contract.ts`): operations and their steps
 * upsert by key, list in a fixed order, commit atomically with replicas, and `clearVolatile` keeps
 * what a resumed operation needs.
 */
import { beforeEach, describe, expect, it } from "vitest";

import type { OperationStatus, StateBatch } from "../../src/store/records.js";
import type { StateStore } from "../../src/store/state-store.js";
import {
  broken,
  daemonRecord,
  fullReplicaRecord,
  operationRecord,
  replicaRecord,
  stepRecord,
  T0,
} from "./fixtures/records.js";

/** Registers the journal cases; `current` returns the fresh store of the running case. */
export function journalContract(current: () => StateStore): void {
  describe("operation journal", () => {
    let store: StateStore;
    beforeEach(() => {
      store = current();
    });

    const op = operationRecord();
    const ids = async (status?: OperationStatus) => (await store.listOperations(status)).map((o) => o.id);

    it("round-trips operations and upserts them by id", async () => {
      await store.commit({ operations: [op] });
      expect(await store.listOperations()).toStrictEqual([op]);

      const failed = operationRecord({
        status: "failed",
        resumes: 2,
        targets: [],
        plan: [{ action: "stop", components: [] }],
        finishedAt: T0 + 99,
        error: `engine[0]: not ready within 5s — "quoted" ✓`,
      });
      await store.commit({ operations: [failed] });
      expect(await store.listOperations()).toStrictEqual([failed]);
    });

    it("round-trips steps, upserts them by (operation, seq) and lists them by seq", async () => {
      const other = stepRecord({ operationId: "op-other", seq: 1 });
      const steps = [3, 1, 2].map((seq) => stepRecord({ seq, name: "signal", index: seq - 1 }));
      await store.commit({ operations: [op], steps: [...steps, other] });
      expect((await store.listSteps(op.id)).map((s) => s.seq)).toStrictEqual([1, 2, 3]);

      const done = stepRecord({
        seq: 2,
        name: "kill",
        index: 1,
        status: "done",
        finishedAt: T0 + 20,
        detail: "pid 4242",
      });
      await store.commit({ steps: [done] });
      expect(await store.listSteps(op.id)).toStrictEqual([steps[1], done, steps[0]]);
      expect(await store.listSteps("op-other")).toStrictEqual([other]);
      expect(await store.listSteps("op-none")).toStrictEqual([]);
    });

    it("lists operations by start time, then by id in code-point order, filtered by status", async () => {
      await store.commit({
        operations: [
          operationRecord({ id: "op-b", startedAt: T0 + 5, status: "done" }),
          operationRecord({ id: "op-a", startedAt: T0 + 5 }),
          operationRecord({ id: "op-Z", startedAt: T0 + 5, status: "failed" }),
          operationRecord({ id: "op-100-10", startedAt: T0 + 5 }),
          operationRecord({ id: "op-100-9", startedAt: T0 + 5, status: "done" }),
          operationRecord({ id: "op-zz", startedAt: T0 + 1 }),
          operationRecord({ id: "op-0", startedAt: T0 + 7, status: "done" }),
        ],
      });
      expect(await ids()).toStrictEqual(["op-zz", "op-100-10", "op-100-9", "op-Z", "op-a", "op-b", "op-0"]);
      expect(await ids("running")).toStrictEqual(["op-zz", "op-100-10", "op-a"]);
      expect(await ids("done")).toStrictEqual(["op-100-9", "op-b", "op-0"]);
      expect(await ids("failed")).toStrictEqual(["op-Z"]);
    });

    it("commits replicas, operations and steps of one batch together", async () => {
      const batch: StateBatch = {
        daemon: daemonRecord(),
        replicas: [fullReplicaRecord()],
        operations: [op],
        steps: [stepRecord(), stepRecord({ seq: 2, name: "grace", index: 0 })],
      };
      await store.commit(batch);
      expect(await store.listReplicas()).toStrictEqual(batch.replicas);
      expect(await store.listOperations()).toStrictEqual(batch.operations);
      expect(await store.listSteps(op.id)).toStrictEqual(batch.steps);
    });

    const refused: [string, StateBatch, string][] = [
      [
        "a step with seq 0 (CHECK), after valid replicas, operations and steps",
        { steps: [stepRecord({ seq: 2 }), stepRecord({ seq: 0 })] },
        `step 0 of operation ${op.id}`,
      ],
      [
        "an operation with an unknown status (CHECK), before valid steps",
        {
          operations: [broken(operationRecord({ id: "op-bad" }), (o) => (o.status = "maybe"))],
          steps: [stepRecord({ seq: 2 })],
        },
        "operation op-bad",
      ],
      [
        "a step without a name (NOT NULL)",
        { steps: [broken(stepRecord({ seq: 3 }), (st) => (st.name = null))] },
        `step 3 of operation ${op.id}`,
      ],
    ];

    it.each(refused)("refuses a whole batch with %s", async (_label, bad, at) => {
      const seed: StateBatch = { replicas: [replicaRecord()], operations: [op], steps: [stepRecord()] };
      await store.commit(seed);
      const journal = async () => ({
        replicas: await store.listReplicas(),
        operations: await store.listOperations(),
        steps: await store.listSteps(op.id),
      });
      const before = await journal();
      const failure = await store
        .commit({
          replicas: [fullReplicaRecord({ index: 1 })],
          operations: [operationRecord({ status: "done", finishedAt: T0 + 50 })],
          steps: [stepRecord({ status: "done", finishedAt: T0 + 12 })],
          ...bad,
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(failure).toMatchObject({ code: "STW-2005", details: { operation: "commit", at } });
      expect(await journal()).toStrictEqual(before);
    });

    it("clearVolatile keeps running operations and their steps, drops finished steps and old operations", async () => {
      const running = operationRecord({ id: "op-running", startedAt: T0 });
      const finished = [1, 2, 3, 4, 5].map((n) =>
        operationRecord({
          id: `op-${n}`,
          startedAt: T0 + n,
          status: n % 2 === 0 ? "failed" : "done",
          finishedAt: T0 + n + 100,
        }),
      );
      const stepsOf = (id: string) => [1, 2].map((seq) => stepRecord({ operationId: id, seq }));
      await store.commit({
        replicas: [replicaRecord()],
        operations: [running, ...finished],
        steps: [running, ...finished].flatMap((o) => stepsOf(o.id)),
      });

      await store.clearVolatile(2);
      expect(await ids()).toStrictEqual(["op-running", "op-4", "op-5"]);
      expect(await store.listSteps("op-running")).toStrictEqual(stepsOf("op-running"));
      for (const o of finished) expect(await store.listSteps(o.id)).toStrictEqual([]);
      expect(await store.listReplicas()).toStrictEqual([]);

      await store.clearVolatile(); // default: the newest 100 finished ones stay
      expect(await ids()).toStrictEqual(["op-running", "op-4", "op-5"]);
      await store.clearVolatile(0);
      expect(await ids()).toStrictEqual(["op-running"]);
      expect(await store.listSteps("op-running")).toStrictEqual(stepsOf("op-running"));
    });

    it("keeps finished operations apart by id when they started in the same millisecond", async () => {
      await store.commit({
        operations: ["op-a", "op-B", "op-c"].map((id) =>
          operationRecord({ id, status: "done", finishedAt: T0 + 20 }),
        ),
      });
      await store.clearVolatile(2);
      expect(await ids()).toStrictEqual(["op-a", "op-c"]); // code-point order: B < a < c
    });
  });
}
