/**
 * @module patching/housekeeping
 * The phases outside the cycle proper: `cleanup` (what the old edition and earlier sessions left
 * behind) and `fs-clone` (a full, resumable copy of run over the patch edition).
 */
import { mkdir, rm } from "node:fs/promises";
import type { PatchPhase } from "../store/records.js";
import type { CompiledPatching } from "../topology/types.js";
import { cloneEdition } from "./clone.js";
import type { PhaseResult } from "./cycle.js";
import { checkSpace, treeSize } from "./disk.js";
import type { EditionLayout } from "./layout.js";
import { assertCanRun, nextPhase } from "./phase-order.js";
import type { Sessions } from "./sessions.js";

export interface Housekeeping {
  sessions: Sessions;
  layout: EditionLayout;
  patching: CompiledPatching;
  progress: (phase: PatchPhase, message: string) => void;
}

/**
 * quick: empty `fs_ne/tmp`; standard: also prune session logs beyond `keep_sessions`; full: also
 * empty the patch edition (the next prepare copies run into it). Recorded on the newest closed
 * cycle, so the next prepare knows no cleanup is pending.
 */
export async function cleanup(h: Housekeeping, mode: "quick" | "standard" | "full"): Promise<PhaseResult> {
  const open = await h.sessions.open();
  assertCanRun("cleanup", open);
  const lines: string[] = [];
  await rm(h.layout.paths.tmp, { recursive: true, force: true });
  await mkdir(h.layout.paths.tmp, { recursive: true }); // emptied, not gone: later phases stage there
  lines.push("temporary files removed");
  if (mode !== "quick") {
    const pruned = await h.layout.pruneLogs(h.patching.keepSessions);
    lines.push(`${pruned.length} old session log director${pruned.length === 1 ? "y" : "ies"} pruned`);
  }
  if (mode === "full" && !open) {
    const links = h.layout.read();
    await rm(h.layout.patchDir(), { recursive: true, force: true });
    await mkdir(h.layout.dir(links.patch));
    const held = await h.sessions.edition(links.patch);
    await h.sessions.putEdition({ ...held, patches: [], needsResync: true });
    lines.push(`patch edition ${links.patch} emptied; the next prepare copies run into it`);
  }
  const last = (await h.sessions.list(5)).find(
    (s) => s.kind === "cycle" && s.id !== open?.id && s.status !== "open",
  );
  if (last && last.status !== "cutover-rolled-back") {
    const s = await h.sessions.begin(last, "cleanup");
    await h.sessions.end(s, "cleanup", "done", `${mode}: ${lines.join("; ")}`);
  }
  for (const l of lines) h.progress("cleanup", l);
  return { phase: "cleanup", session: last?.id ?? 0, ok: true, lines, next: nextPhase(open) };
}

/** Copy run over the patch edition; a failed copy resumes, `force` starts over. */
export async function fsClone(h: Housekeeping, force: boolean): Promise<PhaseResult> {
  const open = await h.sessions.open();
  assertCanRun("fs-clone", open);
  const links = h.layout.read();
  let session = await h.sessions.begin(open ?? (await h.sessions.create("fs-clone", links)), "fs-clone");
  const runDir = h.layout.runDir();
  try {
    await checkSpace(h.patching.root, (await treeSize(runDir)) + h.patching.diskMarginBytes);
    let last = 0;
    const copied = await cloneEdition(runDir, h.layout.patchDir(), {
      tmpDir: h.layout.paths.tmp,
      force,
      onProgress: ({ files }) => {
        if (files - last < 500) return;
        last = files;
        h.progress("fs-clone", `${files} files copied`);
      },
    });
    const run = await h.sessions.edition(links.run);
    await h.sessions.putEdition({ ...run, edition: links.patch, needsResync: false });
    const line = `${runDir} copied to ${links.patch}: ${copied.files} files, ${copied.bytes} bytes${copied.resumed ? " (resumed)" : ""}`;
    session = await h.sessions.end(session, "fs-clone", "done", line, {
      status: "completed",
      finishedAt: Date.now(),
    });
    return { phase: "fs-clone", session: session.id, ok: true, lines: [line], next: nextPhase(undefined) };
  } catch (err) {
    await h.sessions.end(session, "fs-clone", "failed", (err as Error).message);
    throw err;
  }
}
