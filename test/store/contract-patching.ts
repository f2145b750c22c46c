/**
 * @module test/store/contract-patching
 * The online-patching part of the store contract (`./contract.ts`): patch sessions upsert by
 * `(id, node)` and list newest first (by id, then node in code-point order); patch applications
 * upsert by `(session, node, patchId)` and list by session, then seq, filtered by session and node;
 * patch editions upsert by `(node, edition)` and list by node, then edition. Phases, plan and patch
 * lists round-trip as JSON; a record the tables or the mapping refuse fails its whole batch with
 * STW-2005 naming it; `clearVolatile` keeps all of it (history); the state writer queues and
 * group-commits them.
 */
import { beforeEach, describe, expect, it } from "vitest";

import type {
  PatchApplicationRecord,
  PatchPhase,
  PatchSessionRecord,
  PatchSessionStatus,
  StateBatch,
} from "../../src/store/records.js";
import type { StateStore } from "../../src/store/state-store.js";
import { StateWriter } from "../../src/store/state-writer.js";
import {
  broken,
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
  T0,
} from "./fixtures/records.js";

/** Registers the patching cases; `current` returns the fresh store of the running case. */
export function patchingContract(current: () => StateStore): void {
  describe("patching records", () => {
    let store: StateStore;
    beforeEach(() => {
      store = current();
    });

    const sessionKeys = async (limit?: number) =>
      (await store.listPatchSessions(limit)).map((s) => `${s.id}@${s.node}`);
    const applicationKeys = async (filter?: { session?: number; node?: string }) =>
      (await store.listPatchApplications(filter)).map((a) => `${a.session}/${a.seq}@${a.node}:${a.patchId}`);

    it("start empty", async () => {
      expect(await store.listPatchSessions()).toStrictEqual([]);
      expect(await store.readPatchSession(1, "web-1")).toBeUndefined();
      expect(await store.listPatchApplications()).toStrictEqual([]);
      expect(await store.listPatchApplications({ session: 1, node: "web-1" })).toStrictEqual([]);
      expect(await store.listPatchEditions()).toStrictEqual([]);
      expect(await store.listPatchEditions("web-1")).toStrictEqual([]);
    });

    describe("patch sessions", () => {
      it("round-trip every field set (nested phases and plan) and every nullable field null", async () => {
        const full = fullPatchSessionRecord({ id: 2 });
        const bare = patchSessionRecord({ id: 1 });
        await store.commit({ patchSessions: [bare, full] });
        expect(await store.listPatchSessions()).toStrictEqual([full, bare]);
        expect(await store.readPatchSession(2, "web-1")).toStrictEqual(full);
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(bare);
      });

      it("round-trip every phase, every phase state, an empty detail and an operation id", async () => {
        const phases: PatchPhase[] = [
          "prepare",
          "apply",
          "finalize",
          "cutover",
          "cleanup",
          "abort",
          "fs-clone",
        ];
        const states = ["done", "failed", "running"] as const;
        const session = patchSessionRecord({
          status: "aborted",
          phases: Object.fromEntries(
            phases.map((phase, i) => [
              phase,
              {
                state: states[i % 3]!,
                startedAt: T0 + 100 + i,
                finishedAt: i % 3 === 2 ? null : T0 + 200 + i,
                detail: i % 2 === 0 ? "" : `${phase} ✓`,
                operationId: phase === "cutover" ? "op-100-1-1" : null,
              },
            ]),
          ),
          plan: { components: [], computedAt: T0 + 99 },
        });
        await store.commit({ patchSessions: [session] });
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(session);
      });

      it("take every kind and every status", async () => {
        const statuses: PatchSessionStatus[] = ["open", "cutover-rolled-back", "completed", "aborted"];
        const sessions = statuses.flatMap((status, i) =>
          (["cycle", "fs-clone"] as const).map((kind, j) =>
            patchSessionRecord({ id: 2 * i + j + 1, kind, status }),
          ),
        );
        await store.commit({ patchSessions: sessions });
        expect(await store.listPatchSessions()).toStrictEqual([...sessions].reverse());
      });

      it("upsert by (id, node), replacing every field, including back to null and no phases", async () => {
        await store.commit({ patchSessions: [patchSessionRecord(), patchSessionRecord({ node: "web-2" })] });
        const full = fullPatchSessionRecord();
        await store.commit({ patchSessions: [full] });
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(full);
        expect(await store.readPatchSession(1, "web-2")).toStrictEqual(patchSessionRecord({ node: "web-2" }));

        const cleared = patchSessionRecord({
          kind: "fs-clone",
          runEdition: "fs2",
          patchEdition: "fs1",
          startedAt: T0 + 70,
          updatedAt: T0 + 71,
        });
        await store.commit({ patchSessions: [cleared] });
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(cleared);
        expect(await sessionKeys()).toStrictEqual(["1@web-1", "1@web-2"]);
      });

      it("store an absent nullable field (undefined) as null", async () => {
        const loose = {
          ...patchSessionRecord(),
          plan: undefined,
          reason: undefined,
          finishedAt: undefined,
          phases: {
            apply: { state: "running", startedAt: T0 + 1, finishedAt: undefined, detail: undefined },
            cutover: undefined,
          },
        } as unknown as PatchSessionRecord;
        await store.commit({ patchSessions: [loose] });
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(
          patchSessionRecord({
            phases: {
              apply: {
                state: "running",
                startedAt: T0 + 1,
                finishedAt: null,
                detail: null,
                operationId: null,
              },
            },
          }),
        );
      });

      it("list newest first: by id descending, then node in code-point order", async () => {
        const keys: [number, string][] = [
          [1, "web-1"],
          [2, "web-2"],
          [2, "web-1"],
          [10, "a"],
          [2, "Web-2"],
          [3, "db ✓"],
          [2, "web-10"],
        ];
        await store.commit({ patchSessions: keys.map(([id, node]) => patchSessionRecord({ id, node })) });
        expect(await sessionKeys()).toStrictEqual([
          "10@a",
          "3@db ✓",
          "2@Web-2",
          "2@web-1",
          "2@web-10",
          "2@web-2",
          "1@web-1",
        ]);
      });

      it("list at most `limit` sessions, 20 when none is given", async () => {
        const sessions = Array.from({ length: 25 }, (_, i) => patchSessionRecord({ id: i + 1 }));
        await store.commit({ patchSessions: sessions });
        const newest = (count: number) => sessions.slice(-count).reverse();
        expect(await store.listPatchSessions()).toStrictEqual(newest(20));
        expect(await store.listPatchSessions(3)).toStrictEqual(newest(3));
        expect(await store.listPatchSessions(1000)).toStrictEqual(newest(25));
        expect(await store.listPatchSessions(0)).toStrictEqual([]);
      });

      it("read one session by exact id and node", async () => {
        await store.commit({ patchSessions: [patchSessionRecord(), patchSessionRecord({ id: 2 })] });
        expect(await store.readPatchSession(2, "web-1")).toStrictEqual(patchSessionRecord({ id: 2 }));
        expect(await store.readPatchSession(3, "web-1")).toBeUndefined();
        expect(await store.readPatchSession(1, "Web-1")).toBeUndefined();
        expect(await store.readPatchSession(1, "web-")).toBeUndefined();
      });

      it("refuse a limit or a session id that is not a whole number with STW-1006", async () => {
        for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(store.listPatchSessions(limit)).rejects.toMatchObject({
            code: "STW-1006",
            message: expect.stringContaining("patch sessions `limit`: expected a whole number ≥ 0"),
          });
        }
        for (const id of [0, -1, 1.5, Number.NaN]) {
          const expected = {
            code: "STW-1006",
            message: expect.stringContaining("patch session id: expected a whole number ≥ 1"),
          };
          await expect(store.readPatchSession(id, "web-1")).rejects.toMatchObject(expected);
          await expect(store.listPatchApplications({ session: id })).rejects.toMatchObject(expected);
        }
      });
    });

    describe("patch applications", () => {
      it("round-trip every field set and every nullable field null, an empty detail apart from null", async () => {
        const full = fullPatchApplicationRecord({ patchId: "P-full", seq: 2 });
        const bare = patchApplicationRecord({ patchId: "P-bare", seq: 1 });
        const empty = patchApplicationRecord({ patchId: "P-empty", seq: 3, detail: "", state: "done" });
        await store.commit({ patchApplications: [full, empty, bare] });
        expect(await store.listPatchApplications()).toStrictEqual([bare, full, empty]);
      });

      it("upsert by (session, node, patch id), replacing every field, including back to null", async () => {
        const other = [
          patchApplicationRecord({ node: "web-2" }),
          patchApplicationRecord({ session: 2 }),
          patchApplicationRecord({ patchId: "P-101", seq: 2 }),
        ];
        await store.commit({ patchApplications: [patchApplicationRecord(), ...other] });
        const failed = fullPatchApplicationRecord();
        await store.commit({ patchApplications: [failed] });
        expect(await store.listPatchApplications({ session: 1, node: "web-1" })).toStrictEqual([
          failed,
          other[2],
        ]);

        const resumed = patchApplicationRecord({ state: "done", stepsDone: 3, finishedAt: T0 + 80 });
        await store.commit({ patchApplications: [resumed] });
        expect(await store.listPatchApplications({ session: 1, node: "web-1" })).toStrictEqual([
          resumed,
          other[2],
        ]);
        expect(await store.listPatchApplications()).toHaveLength(4);
      });

      it("list by session, then seq (numeric), then node in code-point order; filtered by session and node", async () => {
        const at = (session: number, seq: number, node: string, patchId = `P-${session}-${seq}`) =>
          patchApplicationRecord({ session, seq, node, patchId });
        await store.commit({
          patchApplications: [
            at(10, 1, "web-1"),
            at(1, 10, "web-1"),
            at(2, 1, "web-1"),
            at(1, 2, "web-1"),
            at(1, 1, "web-2"),
            at(1, 1, "web-1"),
            at(1, 1, "Web-1"),
            at(2, 1, "web-2", "P-x"),
            at(2, 1, "web-2", "P-W"),
          ],
        });
        expect(await applicationKeys()).toStrictEqual([
          "1/1@Web-1:P-1-1",
          "1/1@web-1:P-1-1",
          "1/1@web-2:P-1-1",
          "1/2@web-1:P-1-2",
          "1/10@web-1:P-1-10",
          "2/1@web-1:P-2-1",
          "2/1@web-2:P-W",
          "2/1@web-2:P-x",
          "10/1@web-1:P-10-1",
        ]);
        expect(await applicationKeys({ session: 1 })).toStrictEqual([
          "1/1@Web-1:P-1-1",
          "1/1@web-1:P-1-1",
          "1/1@web-2:P-1-1",
          "1/2@web-1:P-1-2",
          "1/10@web-1:P-1-10",
        ]);
        expect(await applicationKeys({ node: "web-1" })).toStrictEqual([
          "1/1@web-1:P-1-1",
          "1/2@web-1:P-1-2",
          "1/10@web-1:P-1-10",
          "2/1@web-1:P-2-1",
          "10/1@web-1:P-10-1",
        ]);
        expect(await applicationKeys({ session: 2, node: "web-2" })).toStrictEqual([
          "2/1@web-2:P-W",
          "2/1@web-2:P-x",
        ]);
        expect(await applicationKeys({})).toHaveLength(9);
        expect(await applicationKeys({ session: 3 })).toStrictEqual([]);
        expect(await applicationKeys({ node: "web" })).toStrictEqual([]);
      });
    });

    describe("patch editions", () => {
      it("round-trip, an empty patch list and a resync flag included", async () => {
        const editions = [
          patchEditionRecord({ edition: "fs1", patches: [], needsResync: true }),
          patchEditionRecord({ patches: ["P-100", "P-099 ✓", "p-100", "P-100-hotfix"] }),
        ];
        await store.commit({ patchEditions: editions });
        expect(await store.listPatchEditions()).toStrictEqual(editions);
      });

      it("upsert by (node, edition), keeping the patch order as given", async () => {
        await store.commit({ patchEditions: [patchEditionRecord(), patchEditionRecord({ node: "web-2" })] });
        const resynced = patchEditionRecord({
          patches: ["P-102", "P-100"],
          needsResync: true,
          updatedAt: T0 + 61,
        });
        await store.commit({ patchEditions: [resynced] });
        expect(await store.listPatchEditions("web-1")).toStrictEqual([resynced]);
        expect(await store.listPatchEditions("web-2")).toStrictEqual([patchEditionRecord({ node: "web-2" })]);
      });

      it("list by node, then edition, in code-point order; filtered by exact node", async () => {
        const keys: [string, string][] = [
          ["web-2", "fs1"],
          ["web-1", "fs2"],
          ["Web-1", "fs1"],
          ["web-1", "fs1"],
          ["web-10", "fs1"],
          ["web-1", "FS3"],
        ];
        await store.commit({
          patchEditions: keys.map(([node, edition]) => patchEditionRecord({ node, edition })),
        });
        const listed = async (node?: string) =>
          (await store.listPatchEditions(node)).map((e) => `${e.node}/${e.edition}`);
        expect(await listed()).toStrictEqual([
          "Web-1/fs1",
          "web-1/FS3",
          "web-1/fs1",
          "web-1/fs2",
          "web-10/fs1",
          "web-2/fs1",
        ]);
        expect(await listed("web-1")).toStrictEqual(["web-1/FS3", "web-1/fs1", "web-1/fs2"]);
        expect(await listed("web")).toStrictEqual([]);
      });
    });

    it("commit with the other records of their batch", async () => {
      const batch: StateBatch = {
        replicas: [fullReplicaRecord()],
        operations: [operationRecord()],
        jobRuns: [fullJobRunRecord()],
        patchSessions: [fullPatchSessionRecord()],
        patchApplications: [
          fullPatchApplicationRecord(),
          patchApplicationRecord({ patchId: "P-101", seq: 2 }),
        ],
        patchEditions: [patchEditionRecord(), patchEditionRecord({ edition: "fs1", patches: [] })],
        maintenance: maintenanceRecord(),
      };
      await store.commit(batch);
      expect(await store.listReplicas()).toStrictEqual(batch.replicas);
      expect(await store.listOperations()).toStrictEqual(batch.operations);
      expect(await store.listJobRuns()).toStrictEqual(batch.jobRuns);
      expect(await store.listPatchSessions()).toStrictEqual(batch.patchSessions);
      expect(await store.listPatchApplications()).toStrictEqual(batch.patchApplications);
      expect(await store.listPatchEditions()).toStrictEqual([...batch.patchEditions!].reverse());
      expect(await store.readMaintenance()).toStrictEqual(batch.maintenance);
    });

    describe("a batch refused midway leaves nothing applied", () => {
      const seed: StateBatch = {
        jobRuns: [jobRunRecord()],
        patchSessions: [patchSessionRecord()],
        patchApplications: [patchApplicationRecord()],
        patchEditions: [patchEditionRecord()],
      };
      const good: StateBatch = {
        replicas: [replicaRecord({ state: "ready" })],
        jobRuns: [fullJobRunRecord()],
        patchSessions: [fullPatchSessionRecord(), patchSessionRecord({ id: 2, node: "web-2" })],
        patchApplications: [
          fullPatchApplicationRecord(),
          patchApplicationRecord({ patchId: "P-101", seq: 2 }),
        ],
        patchEditions: [
          patchEditionRecord({ patches: [], needsResync: true }),
          patchEditionRecord({ edition: "fs1" }),
        ],
        maintenance: maintenanceRecord(),
      };
      const badSession = (fn: (r: Record<string, unknown>) => void) =>
        broken(patchSessionRecord({ id: 3 }), fn);
      const badApplication = (fn: (r: Record<string, unknown>) => void) =>
        broken(patchApplicationRecord({ patchId: "P-bad", seq: 3 }), fn);
      const badEdition = (fn: (r: Record<string, unknown>) => void) =>
        broken(patchEditionRecord({ node: "db-1" }), fn);
      const SESSION = "patch session 3 on web-1";
      const APPLICATION = "patch P-bad in patch session 1 on web-1";
      const EDITION = "patch edition fs2 on db-1";
      const refused: [string, StateBatch, string][] = [
        [
          "a session with an unknown status (CHECK), after valid sessions",
          { ...good, patchSessions: [...good.patchSessions!, badSession((r) => (r.status = "closed"))] },
          SESSION,
        ],
        [
          "a session with an unknown kind (CHECK)",
          { ...good, patchSessions: [badSession((r) => (r.kind = "hotfix")), ...good.patchSessions!] },
          SESSION,
        ],
        [
          "a session with id 0 (CHECK)",
          { ...good, patchSessions: [patchSessionRecord({ id: 0 })] },
          "patch session 0 on web-1",
        ],
        [
          "a session without a patch edition (NOT NULL)",
          { ...good, patchSessions: [badSession((r) => (r.patchEdition = null))] },
          SESSION,
        ],
        [
          "a session whose phases name an unknown phase",
          {
            ...good,
            patchSessions: [
              badSession(
                (r) =>
                  (r.phases = {
                    deploy: { state: "done", startedAt: T0, finishedAt: T0, detail: null, operationId: null },
                  }),
              ),
            ],
          },
          SESSION,
        ],
        [
          "a session whose phase has an unknown state",
          {
            ...good,
            patchSessions: [
              badSession((r) => (r.phases = { apply: { state: "maybe", startedAt: T0, finishedAt: null } })),
            ],
          },
          SESSION,
        ],
        [
          "a session whose phases are not an object",
          { ...good, patchSessions: [badSession((r) => (r.phases = ["prepare"]))] },
          SESSION,
        ],
        [
          "a session whose plan has an unknown mode",
          {
            ...good,
            patchSessions: [
              badSession((r) => (r.plan = { components: [{ name: "web", mode: "reload" }], computedAt: T0 })),
            ],
          },
          SESSION,
        ],
        [
          "a session whose plan has no components",
          { ...good, patchSessions: [badSession((r) => (r.plan = { computedAt: T0 }))] },
          SESSION,
        ],
        [
          "an application with an unknown state (CHECK), after valid applications, before the editions",
          {
            ...good,
            patchApplications: [...good.patchApplications!, badApplication((r) => (r.state = "skipped"))],
          },
          APPLICATION,
        ],
        [
          "an application with an unknown kind (CHECK)",
          { ...good, patchApplications: [badApplication((r) => (r.kind = "merge"))] },
          APPLICATION,
        ],
        [
          "an application whose `errorsTolerated` is not a boolean",
          { ...good, patchApplications: [badApplication((r) => (r.errorsTolerated = "yes"))] },
          APPLICATION,
        ],
        [
          "an application with seq 0 (CHECK)",
          { ...good, patchApplications: [badApplication((r) => (r.seq = 0))] },
          APPLICATION,
        ],
        [
          "an application with negative steps done (CHECK)",
          { ...good, patchApplications: [badApplication((r) => (r.stepsDone = -1))] },
          APPLICATION,
        ],
        [
          "an application without a log directory (NOT NULL)",
          { ...good, patchApplications: [badApplication((r) => (r.logDir = null))] },
          APPLICATION,
        ],
        [
          "an edition whose patches are not a list of ids, after valid editions, before maintenance",
          { ...good, patchEditions: [...good.patchEditions!, badEdition((r) => (r.patches = "P-100"))] },
          EDITION,
        ],
        [
          "an edition whose `needsResync` is not a boolean",
          { ...good, patchEditions: [badEdition((r) => (r.needsResync = 1))] },
          EDITION,
        ],
      ];

      const everything = async () => ({
        replicas: await store.listReplicas(),
        jobRuns: await store.listJobRuns(),
        sessions: await store.listPatchSessions(),
        applications: await store.listPatchApplications(),
        editions: await store.listPatchEditions(),
        maintenance: await store.readMaintenance(),
      });

      it.each(refused)("%s: STW-2005 naming it", async (_label, bad, at) => {
        await store.commit(seed);
        const before = await everything();
        const failure = await store.commit(bad).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure).toMatchObject({
          code: "STW-2005",
          details: { operation: "commit", at, problem: expect.stringMatching(/^a record was refused \(/) },
        });
        expect(await everything()).toStrictEqual(before);

        // still usable afterwards
        await store.commit(good);
        expect(await store.listPatchSessions()).toStrictEqual([
          good.patchSessions![1],
          good.patchSessions![0],
        ]);
        expect(await store.listPatchApplications()).toStrictEqual(good.patchApplications);
      });
    });

    it("clearVolatile keeps every session, application and edition, open or finished", async () => {
      const sessions = [
        fullPatchSessionRecord({ id: 1, status: "completed" }),
        patchSessionRecord({ id: 2, status: "aborted", finishedAt: T0 + 90 }),
        patchSessionRecord({ id: 3 }),
        patchSessionRecord({ id: 3, node: "web-2" }),
      ];
      const applications = [
        fullPatchApplicationRecord({ state: "done" }),
        patchApplicationRecord({ session: 3, state: "running" }),
      ];
      const editions = [patchEditionRecord(), patchEditionRecord({ edition: "fs1", needsResync: true })];
      await store.commit({
        replicas: [replicaRecord()],
        patchSessions: sessions,
        patchApplications: applications,
        patchEditions: editions,
      });
      await store.clearVolatile(0);
      expect(await store.listReplicas()).toStrictEqual([]);
      expect(await store.listPatchSessions()).toStrictEqual([
        sessions[2],
        sessions[3],
        sessions[1],
        sessions[0],
      ]);
      expect(await store.listPatchApplications()).toStrictEqual(applications);
      expect(await store.listPatchEditions()).toStrictEqual([editions[1], editions[0]]);
    });

    describe("through a state writer", () => {
      it("put and flush: committed together, the latest form of each record in one batch", async () => {
        const errors: unknown[] = [];
        const writer = new StateWriter(store, (err) => errors.push(err));
        const session = patchSessionRecord();
        const application = patchApplicationRecord();
        void writer.putPatchSession(session);
        void writer.putPatchApplication(application);
        void writer.putPatchEdition(patchEditionRecord({ patches: ["P-100"] }));
        // The phase moves on in the same turn: the caller changes its record in place and puts it again.
        session.phases.apply = {
          state: "running",
          startedAt: T0 + 50,
          finishedAt: null,
          detail: null,
          operationId: null,
        };
        void writer.putPatchSession(session);
        const done: PatchApplicationRecord = {
          ...application,
          state: "done",
          stepsDone: 3,
          finishedAt: T0 + 52,
        };
        void writer.putPatchApplication(done);
        await writer.flush();
        expect(errors).toStrictEqual([]);
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(session);
        expect(await store.listPatchApplications()).toStrictEqual([done]);
        expect(await store.listPatchEditions()).toStrictEqual([patchEditionRecord({ patches: ["P-100"] })]);
      });

      it("write each record as it was when queued, whatever the caller changes afterwards", async () => {
        const writer = new StateWriter(store, () => undefined);
        const session = fullPatchSessionRecord();
        const edition = patchEditionRecord();
        const puts = [writer.putPatchSession(session), writer.putPatchEdition(edition)];
        session.phases.cutover!.state = "done";
        session.plan!.components.pop();
        delete session.phases.prepare;
        edition.patches.push("P-999");
        await Promise.all(puts);
        expect(await store.readPatchSession(1, "web-1")).toStrictEqual(fullPatchSessionRecord());
        expect(await store.listPatchEditions()).toStrictEqual([patchEditionRecord()]);
      });

      it("a refused record is reported naming it, its batch dropped, and the writer goes on", async () => {
        const errors: unknown[] = [];
        const writer = new StateWriter(store, (err) => errors.push(err));
        void writer.putPatchEdition(patchEditionRecord());
        await writer.putPatchSession(broken(patchSessionRecord({ id: 4 }), (r) => (r.status = "closed")));
        expect(errors).toStrictEqual([
          expect.objectContaining({
            code: "STW-2005",
            details: expect.objectContaining({ at: "patch session 4 on web-1" }),
          }),
        ]);
        expect(await store.listPatchEditions()).toStrictEqual([]);
        await writer.putPatchSession(patchSessionRecord({ id: 4 }));
        expect(await store.listPatchSessions()).toStrictEqual([patchSessionRecord({ id: 4 })]);
      });
    });
  });
}
