/**
 * @module patching/sync
 * Prepare's synchronisation of the patch edition with run, by `patching.sync`:
 *
 * - `patches` (default): replay, from the patch store, every patch run holds and patch lacks, in
 *   the order run got them (`--skip-sync-errors` retries one that failed with errors tolerated);
 * - `delta`: copy the files that differ, minus `exclude` (patching/delta);
 * - `clone`: a full copy (patching/clone) — also what an edition marked by `abort` gets.
 */
import { join } from "node:path";
import type { PatchSessionRecord } from "../store/records.js";
import type { CompiledPatching } from "../topology/types.js";
import { applyPatch } from "./apply-patch.js";
import { checkPatchesIsolated } from "./check-isolated.js";
import { cloneEdition } from "./clone.js";
import { deltaSync } from "./delta.js";
import type { Sessions } from "./sessions.js";

export interface SyncContext {
  sessions: Sessions;
  session: PatchSessionRecord;
  patching: CompiledPatching;
  runDir: string;
  patchDir: string;
  /** The patch store (`fs_ne/patches`) and a scratch directory (`fs_ne/tmp`). */
  patchStore: string;
  tmpDir: string;
  logDir: string;
  skipSyncErrors: boolean;
  progress: (message: string) => void;
}

/** Bring the patch edition level with run; says what it did. */
export async function syncPatchEdition(ctx: SyncContext): Promise<string> {
  const { sessions, session } = ctx;
  const run = await sessions.edition(session.runEdition);
  const patch = await sessions.edition(session.patchEdition);
  const mode = patch.needsResync ? "clone" : ctx.patching.sync;
  if (mode === "clone") {
    ctx.progress(
      `sync: copying the run edition into ${session.patchEdition}${patch.needsResync ? " (marked for a full resync)" : ""}`,
    );
    const c = await cloneEdition(ctx.runDir, ctx.patchDir, { tmpDir: ctx.tmpDir });
    await sessions.putEdition({ ...patch, patches: [...run.patches], needsResync: false });
    return `sync clone: ${c.files} files copied`;
  }
  if (mode === "delta") {
    ctx.progress(`sync: copying what changed in run to ${session.patchEdition}`);
    const d = await deltaSync(ctx.runDir, ctx.patchDir, ctx.patching.exclude);
    await sessions.putEdition({ ...patch, patches: [...run.patches] });
    const shown = d.changed.slice(0, 5).join(", ") + (d.changed.length > 5 ? ", …" : "");
    return `sync delta: ${d.copied} copied, ${d.deleted} deleted${shown ? ` (${shown})` : ""}`;
  }
  const missing = run.patches.filter((id) => !patch.patches.includes(id));
  if (missing.length === 0) return "sync patches: the patch edition already holds every patch of run";
  ctx.progress(`sync: replaying ${missing.join(", ")} (applied to run, not to ${session.patchEdition})`);
  const stored = await checkPatchesIsolated(missing.map((id) => join(ctx.patchStore, id)));
  const previous = await sessions.applications(session.id);
  let seq = previous.reduce((m, a) => Math.max(m, a.seq), 0);
  let tolerated = false;
  for (const [i, id] of missing.entries()) {
    const before = previous.find((a) => a.patchId === id && a.kind === "sync");
    const tolerate = ctx.skipSyncErrors && !tolerated && before?.state === "failed";
    if (tolerate) tolerated = true;
    const loaded = stored[i]!;
    seq += 1;
    await applyPatch(
      {
        sessions,
        session: session.id,
        edition: session.patchEdition,
        editionDir: ctx.patchDir,
        logDir: join(ctx.logDir, "sync"),
        env: process.env,
        progress: ctx.progress,
      },
      loaded,
      { seq, kind: "sync", tolerateErrors: tolerate, ...(before ? { previous: before } : {}) },
    );
  }
  return `sync patches: ${missing.length} replayed`;
}
