/**
 * @module patching/apply-phase
 * `patch apply <patch>...`: check every patch outside the daemon (patching/check-isolated: its
 * manifest validated strictly, an archive unpacked as a stream into `fs_ne/tmp`), move each into
 * the patch store, check every `requires` against what the patch edition holds plus the patches
 * before it in the list, then apply them in order — or, with `--merge`, every patch's files first
 * and then every step.
 * A patch already applied in this session is skipped; one that failed resumes after its last
 * completed step.
 */
import { resolve } from "node:path";
import type { PatchSessionRecord } from "../store/records.js";
import { applyFiles } from "./apply-files.js";
import { applyPatch } from "./apply-patch.js";
import { checkPatchesIsolated } from "./check-isolated.js";
import { MissingRequirementError } from "./errors.js";
import type { EditionLayout } from "./layout.js";
import { storePatch } from "./patch-store.js";
import type { Sessions } from "./sessions.js";
import type { TarLimits } from "./tar-safety.js";

export interface ApplyContext {
  sessions: Sessions;
  session: PatchSessionRecord;
  layout: EditionLayout;
  /** Paths of patch directories or `.tar.gz` files (absolute, or relative to the daemon's cwd). */
  sources: string[];
  merge: boolean;
  /** Limits on what an archive may unpack to (`--max-size`…); unset ones keep their default. */
  limits?: Partial<TarLimits>;
  progress: (message: string) => void;
}

export async function applyPatches(ctx: ApplyContext): Promise<string[]> {
  const { sessions, session, layout } = ctx;
  ctx.progress(`checking ${ctx.sources.length} patch(es)`);
  const checked = await checkPatchesIsolated(
    ctx.sources.map((s) => resolve(s)),
    { stage: layout.paths.tmp, ...(ctx.limits ? { limits: ctx.limits } : {}) },
  );
  const patches = [];
  for (const p of checked) patches.push(await storePatch(p, layout.paths.patches));
  const edition = await sessions.edition(session.patchEdition);
  const have = new Set(edition.patches);
  for (const p of patches) {
    const missing = p.manifest.requires.filter((r) => !have.has(r));
    if (missing.length > 0) throw new MissingRequirementError(p.manifest.id, missing);
    have.add(p.manifest.id);
  }
  const previous = await sessions.applications(session.id);
  let seq = previous.reduce((m, a) => Math.max(m, a.seq), 0);
  const editionDir = layout.patchDir();
  const lines: string[] = [];
  const todo = patches.filter((p) => {
    const before = previous.find((a) => a.patchId === p.manifest.id);
    if (before?.state === "done" || (!before && edition.patches.includes(p.manifest.id))) {
      lines.push(`${p.manifest.id}: already in ${session.patchEdition}, skipped`);
      return false;
    }
    return true;
  });
  if (ctx.merge && todo.length > 1) {
    ctx.progress(
      `merging ${todo.map((p) => p.manifest.id).join(", ")}: every patch's files first, then the steps`,
    );
    for (const p of todo) await applyFiles(p.dir, editionDir, p.manifest);
  }
  for (const p of todo) {
    const before = previous.find((a) => a.patchId === p.manifest.id);
    seq += 1;
    const record = await applyPatch(
      {
        sessions,
        session: session.id,
        edition: session.patchEdition,
        editionDir,
        logDir: layout.logDir(session.id, "apply"),
        env: process.env,
        progress: ctx.progress,
      },
      p,
      {
        seq,
        kind: "apply",
        filesApplied: ctx.merge && todo.length > 1,
        ...(before ? { previous: before } : {}),
      },
    );
    lines.push(
      `${p.manifest.id}: applied to ${session.patchEdition} (${record.stepsTotal} step(s)), logs in ${record.logDir}`,
    );
  }
  return lines;
}
