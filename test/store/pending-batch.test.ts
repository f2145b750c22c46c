/**
 * What a state writer has queued: each record in its latest form, in the order it was first queued;
 * the maintenance record as one value whose last form wins, a deletion (`null`) included; and a held
 * batch that absorbs what was queued after it.
 */
import { describe, expect, it } from "vitest";

import { PendingBatch } from "../../src/store/pending-batch.js";
import { fullJobRunRecord, jobRunRecord, maintenanceRecord, replicaRecord, T0 } from "./fixtures/records.js";

describe("PendingBatch", () => {
  it("leaves the maintenance record out until it is queued", () => {
    const batch = new PendingBatch();
    batch.putReplica(replicaRecord());
    expect(batch.toBatch()).not.toHaveProperty("maintenance");
    expect(batch.size).toBe(1);
  });

  it("keeps each job run's latest form in the place it was first queued", () => {
    const batch = new PendingBatch();
    const ended = fullJobRunRecord({ state: "succeeded" });
    batch.putJobRun(jobRunRecord());
    batch.putJobRun(jobRunRecord({ id: "run-2" }));
    batch.putJobRun(ended);
    expect(batch.toBatch().jobRuns).toStrictEqual([ended, jobRunRecord({ id: "run-2" })]);
    expect(batch.size).toBe(2);
  });

  it("keeps the last maintenance value queued, a deletion included, counted as one record", () => {
    const batch = new PendingBatch();
    batch.putMaintenance(maintenanceRecord());
    batch.putMaintenance(null);
    expect(batch.toBatch().maintenance).toBeNull();
    expect(batch.size).toBe(1);
    batch.putMaintenance(maintenanceRecord({ updatedAt: T0 + 40 }));
    expect(batch.toBatch().maintenance).toStrictEqual(maintenanceRecord({ updatedAt: T0 + 40 }));
    expect(batch.size).toBe(1);
  });

  it("copies the maintenance lists, so later changes by the caller do not leak in", () => {
    const batch = new PendingBatch();
    const record = maintenanceRecord();
    batch.putMaintenance(record);
    record.components.push("cache");
    record.pausedSchedules.splice(0);
    expect(batch.toBatch().maintenance).toStrictEqual(maintenanceRecord());
  });

  describe("absorbing what was queued after it", () => {
    it("takes newer job runs and the newer maintenance value, a deletion included", () => {
      const held = new PendingBatch();
      held.putJobRun(jobRunRecord());
      held.putMaintenance(maintenanceRecord());
      const newer = new PendingBatch();
      newer.putJobRun(jobRunRecord({ id: "run-2" }));
      newer.putJobRun(fullJobRunRecord());
      newer.putMaintenance(null);
      held.absorb(newer);
      expect(held.toBatch()).toMatchObject({
        jobRuns: [fullJobRunRecord(), jobRunRecord({ id: "run-2" })],
        maintenance: null,
      });
      expect(held.size).toBe(3);
    });

    it("keeps its own maintenance value when the newer batch did not touch it", () => {
      const held = new PendingBatch();
      held.putMaintenance(null);
      const newer = new PendingBatch();
      newer.putJobRun(jobRunRecord());
      held.absorb(newer);
      expect(held.toBatch().maintenance).toBeNull();

      const untouched = new PendingBatch();
      untouched.absorb(newer);
      expect(untouched.toBatch()).not.toHaveProperty("maintenance");
    });

    it("hands over the newer batch's waiters", async () => {
      const held = new PendingBatch();
      const newer = new PendingBatch();
      newer.putMaintenance(maintenanceRecord());
      held.absorb(newer);
      held.settle();
      await expect(newer.done).resolves.toBeUndefined();
    });
  });
});
