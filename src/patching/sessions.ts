/**
 * @module patching/sessions
 * The durable side of a patch cycle: sessions with each phase's state, the patches applied in
 * them, and what each edition holds. Every change is written through the state writer and awaited,
 * so a phase recorded `running` was durably so before it did anything.
 */
import type {
  PatchApplicationRecord,
  PatchEditionRecord,
  PatchPhase,
  PatchPhaseRecord,
  PatchSessionRecord,
} from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import type { StateWriter } from "../store/state-writer.js";
import { isOpen } from "./phase-order.js";

export type SessionStore = Pick<
  StateStore,
  "listPatchSessions" | "listPatchApplications" | "listPatchEditions" | "listSteps"
>;

export class Sessions {
  /** The newest session this daemon wrote or read as open (for `status`, which must not wait). */
  latest: PatchSessionRecord | undefined;

  constructor(
    readonly node: string,
    readonly store: SessionStore,
    private readonly writer: StateWriter,
  ) {}

  /** Sessions of this node, newest first. */
  async list(limit = 20): Promise<PatchSessionRecord[]> {
    await this.writer.flush();
    return (await this.store.listPatchSessions(limit)).filter((s) => s.node === this.node);
  }

  /** The session in progress on this node, if any. */
  async open(): Promise<PatchSessionRecord | undefined> {
    const open = (await this.list(5)).find(isOpen);
    if (open) this.latest = open;
    return open;
  }

  /** The newest closed cycle whose cleanup has not run (prepare runs it first). */
  async pendingCleanup(): Promise<PatchSessionRecord | undefined> {
    const last = (await this.list(5)).find((s) => s.kind === "cycle" && !isOpen(s));
    return last && last.phases.cleanup?.state !== "done" ? last : undefined;
  }

  async nextId(): Promise<number> {
    await this.writer.flush();
    const [newest] = await this.store.listPatchSessions(1);
    return (newest?.id ?? 0) + 1;
  }

  /** A new session record (not yet written) with the next id. */
  async create(
    kind: PatchSessionRecord["kind"],
    links: { run: string; patch: string },
  ): Promise<PatchSessionRecord> {
    const now = Date.now();
    return {
      id: await this.nextId(),
      node: this.node,
      kind,
      status: "open",
      runEdition: links.run,
      patchEdition: links.patch,
      phases: {},
      plan: null,
      reason: null,
      startedAt: now,
      finishedAt: null,
      updatedAt: now,
    };
  }

  /** Write `session` and wait until it is durable. */
  async put(session: PatchSessionRecord): Promise<PatchSessionRecord> {
    const record = { ...session, updatedAt: Date.now() };
    if (session.kind === "cycle" || isOpen(session)) this.latest = record;
    await this.writer.putPatchSession(record);
    await this.writer.flush();
    return record;
  }

  /** Record `phase` of `session` as running (durably), returning the updated session. */
  begin(
    session: PatchSessionRecord,
    phase: PatchPhase,
    operationId: string | null = null,
  ): Promise<PatchSessionRecord> {
    const record: PatchPhaseRecord = {
      state: "running",
      startedAt: Date.now(),
      finishedAt: null,
      detail: null,
      operationId,
    };
    return this.put({ ...session, phases: { ...session.phases, [phase]: record } });
  }

  /** Record how `phase` ended. */
  end(
    session: PatchSessionRecord,
    phase: PatchPhase,
    state: "done" | "failed",
    detail: string | null,
    patch: Partial<PatchSessionRecord> = {},
  ): Promise<PatchSessionRecord> {
    const previous = session.phases[phase];
    const record: PatchPhaseRecord = {
      state,
      startedAt: previous?.startedAt ?? Date.now(),
      finishedAt: Date.now(),
      detail,
      operationId: previous?.operationId ?? null,
    };
    return this.put({ ...session, ...patch, phases: { ...session.phases, [phase]: record } });
  }

  async applications(session: number): Promise<PatchApplicationRecord[]> {
    await this.writer.flush();
    return this.store.listPatchApplications({ session, node: this.node });
  }

  async putApplication(record: PatchApplicationRecord): Promise<void> {
    await this.writer.putPatchApplication(record);
    await this.writer.flush();
  }

  /** What `edition` (`fs1`/`fs2`) holds on this node; an edition never recorded holds nothing. */
  async edition(edition: string): Promise<PatchEditionRecord> {
    await this.writer.flush();
    const found = (await this.store.listPatchEditions(this.node)).find((e) => e.edition === edition);
    return found ?? { node: this.node, edition, patches: [], needsResync: false, updatedAt: 0 };
  }

  async putEdition(record: PatchEditionRecord): Promise<void> {
    await this.writer.putPatchEdition({ ...record, updatedAt: Date.now() });
    await this.writer.flush();
  }
}
