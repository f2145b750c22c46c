/**
 * What a state writer has queued: each record in its latest form, in the order it was first queued;
 * the maintenance record as one value whose last form wins, a deletion (`null`) included; and a held
 * batch that absorbs what was queued after it.
 */
import { describe, expect, it } from "vitest";

import { PendingBatch } from "../../src/store/pending-batch.js";
import {
  fullJobRunRecord,
  fullPatchApplicationRecord,
  fullPatchSessionRecord,
  jobRunRecord,
  maintenanceRecord,
  patchApplicationRecord,
  patchEditionRecord,
  patchSessionRecord,
  replicaRecord,
  T0,
} from "./fixtures/records.js";

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

  it("keeps each patch record's latest form in the place it was first queued, keyed as the store keys it", () => {
    const batch = new PendingBatch();
    batch.putPatchSession(patchSessionRecord());
    batch.putPatchSession(patchSessionRecord({ node: "web-2" }));
    batch.putPatchSession(patchSessionRecord({ id: 2 }));
    batch.putPatchSession(fullPatchSessionRecord());
    batch.putPatchApplication(patchApplicationRecord());
    batch.putPatchApplication(patchApplicationRecord({ session: 2 }));
    batch.putPatchApplication(patchApplicationRecord({ patchId: "P-101" }));
    batch.putPatchApplication(fullPatchApplicationRecord());
    batch.putPatchEdition(patchEditionRecord());
    batch.putPatchEdition(patchEditionRecord({ edition: "fs1" }));
    batch.putPatchEdition(patchEditionRecord({ patches: [], updatedAt: T0 + 70 }));
    const { patchSessions, patchApplications, patchEditions } = batch.toBatch();
    expect({ patchSessions, patchApplications, patchEditions }).toStrictEqual({
      patchSessions: [
        fullPatchSessionRecord(),
        patchSessionRecord({ node: "web-2" }),
        patchSessionRecord({ id: 2 }),
      ],
      patchApplications: [
        fullPatchApplicationRecord(),
        patchApplicationRecord({ session: 2 }),
        patchApplicationRecord({ patchId: "P-101" }),
      ],
      patchEditions: [
        patchEditionRecord({ patches: [], updatedAt: T0 + 70 }),
        patchEditionRecord({ edition: "fs1" }),
      ],
    });
    expect(batch.size).toBe(8);
  });

  it("copies patch records deeply, so later changes by the caller do not leak in", () => {
    const batch = new PendingBatch();
    const session = fullPatchSessionRecord();
    const edition = patchEditionRecord();
    batch.putPatchSession(session);
    batch.putPatchEdition(edition);
    session.phases.apply!.detail = "changed";
    session.phases.abort = {
      state: "running",
      startedAt: T0,
      finishedAt: null,
      detail: null,
      operationId: null,
    };
    session.plan!.components[0]!.mode = "switch";
    edition.patches.push("P-999");
    expect(batch.toBatch().patchSessions).toStrictEqual([fullPatchSessionRecord()]);
    expect(batch.toBatch().patchEditions).toStrictEqual([patchEditionRecord()]);
  });

  describe("absorbing what was queued after it", () => {
    it("takes newer patch records, replacing those of the same key", () => {
      const held = new PendingBatch();
      held.putPatchSession(patchSessionRecord());
      held.putPatchApplication(patchApplicationRecord());
      const newer = new PendingBatch();
      newer.putPatchEdition(patchEditionRecord());
      newer.putPatchSession(patchSessionRecord({ id: 2 }));
      newer.putPatchSession(fullPatchSessionRecord());
      newer.putPatchApplication(fullPatchApplicationRecord());
      held.absorb(newer);
      const { patchSessions, patchApplications, patchEditions } = held.toBatch();
      expect({ patchSessions, patchApplications, patchEditions }).toStrictEqual({
        patchSessions: [fullPatchSessionRecord(), patchSessionRecord({ id: 2 })],
        patchApplications: [fullPatchApplicationRecord()],
        patchEditions: [patchEditionRecord()],
      });
      expect(held.size).toBe(4);
    });

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
