/**
 * @module patching/apply-patch
 * Applying one stored patch to the patch edition — its files, its deletions, then its steps, each
 * step's completion recorded so a re-run resumes after the last completed step. Used by `apply`
 * and by prepare's `patches` sync (replaying what run has and patch lacks).
 */
import { join } from "node:path";
import type { PatchApplicationRecord } from "../store/records.js";
import { applyFiles } from "./apply-files.js";
import type { PatchManifest } from "./checked-patch.js";
import { runCommands } from "./run-commands.js";
import type { Sessions } from "./sessions.js";

export interface ApplyTarget {
  sessions: Sessions;
  session: number;
  /** Edition directory name (`fs2`) and its real path. */
  edition: string;
  editionDir: string;
  /** Session log directory for this phase. */
  logDir: string;
  env: NodeJS.ProcessEnv;
  progress: (message: string) => void;
}

/**
 * Apply `manifest` (stored at `dir`) as the `seq`-th patch of the session; resumes `previous`
 * (the same patch's record from an earlier attempt in this session).
 * @throws PatchStepError naming the failed step and its log (the record says `failed`)
 */
export async function applyPatch(
  target: ApplyTarget,
  patch: { manifest: PatchManifest; dir: string },
  opts: {
    seq: number;
    kind: "sync" | "apply";
    tolerateErrors?: boolean;
    previous?: PatchApplicationRecord;
    /** `--merge`: every patch's files were written first, in order; only the steps remain. */
    filesApplied?: boolean;
  },
): Promise<PatchApplicationRecord> {
  const { manifest } = patch;
  const logDir = join(target.logDir, manifest.id);
  let record: PatchApplicationRecord = {
    session: target.session,
    node: target.sessions.node,
    patchId: manifest.id,
    edition: target.edition,
    seq: opts.previous?.seq ?? opts.seq,
    kind: opts.kind,
    state: "running",
    stepsDone: opts.previous?.stepsDone ?? 0,
    stepsTotal: manifest.steps.length,
    errorsTolerated: opts.tolerateErrors ?? false,
    logDir,
    detail: null,
    startedAt: opts.previous?.startedAt ?? Date.now(),
    finishedAt: null,
  };
  await target.sessions.putApplication(record);
  const resumed = record.stepsDone > 0 ? ` (resuming after step ${record.stepsDone})` : "";
  target.progress(`${manifest.id}: applying to ${target.edition}${resumed}`);
  try {
    if (!opts.filesApplied) {
      const files = await applyFiles(patch.dir, target.editionDir, manifest);
      target.progress(`${manifest.id}: ${files.written} file(s) written, ${files.deleted} removed`);
    }
    const result = await runCommands(manifest.steps, {
      cwd: target.editionDir,
      env: { ...target.env, STEWARD_EDITION: target.editionDir, STEWARD_PATCH: manifest.id },
      logDir,
      label: "step",
      startAt: record.stepsDone,
      tolerateErrors: opts.tolerateErrors ?? false,
      onDone: async (index) => {
        record = { ...record, stepsDone: index + 1 };
        await target.sessions.putApplication(record);
        target.progress(`${manifest.id}: step ${index + 1}/${manifest.steps.length} done`);
      },
    });
    const tolerated = result.failed.map(
      (f) => `step ${f.index + 1} failed (exit ${f.exitCode}), see ${f.log}`,
    );
    record = {
      ...record,
      state: "done",
      stepsDone: manifest.steps.length,
      finishedAt: Date.now(),
      detail: tolerated.length > 0 ? `errors tolerated: ${tolerated.join("; ")}` : null,
    };
  } catch (err) {
    record = { ...record, state: "failed", finishedAt: Date.now(), detail: (err as Error).message };
    await target.sessions.putApplication(record);
    throw err;
  }
  await target.sessions.putApplication(record);
  const held = await target.sessions.edition(target.edition);
  if (!held.patches.includes(manifest.id))
    await target.sessions.putEdition({ ...held, patches: [...held.patches, manifest.id] });
  return record;
}
