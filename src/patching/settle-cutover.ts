/**
 * @module patching/settle-cutover
 * A session whose cutover phase still says `running` at boot, while no cutover operation is left
 * to resume it, ended without its session hearing of it: a daemon killed between the operation's
 * end and the session's (two writes before the end of a cutover became one transaction), or before
 * the operation was journaled at all. How it ended is read from what outlived the crash, most
 * certain first: the links (`run` names the patch edition: the switch is complete), the operation's
 * record, its steps. Nothing here touches a process: the replicas were settled by the operation.
 */
import type { OperationRecord, OperationStepRecord, PatchSessionRecord } from "../store/records.js";
import type { CutoverOutcome } from "./cutover.js";

/** How a stranded cutover ended: an outcome to record, or a failure with nothing changed. */
export type SettledCutover = CutoverOutcome | Error;

/** `op` is the session's cutover operation (undefined when none is recorded or it was pruned). */
export function settleCutover(
  session: PatchSessionRecord,
  op: OperationRecord | undefined,
  steps: readonly OperationStepRecord[],
  runLink: string,
  noRestart: boolean,
): SettledCutover | undefined {
  if (session.phases.cutover?.state !== "running" || op?.status === "running") return undefined;
  const ms = op?.finishedAt ? op.finishedAt - op.startedAt : 0;
  if (runLink === session.patchEdition || op?.status === "done")
    return noRestart ? { result: "stopped", ms } : { result: "completed", ms };
  if (steps.some((s) => s.name === "rollback"))
    return { result: "rolled-back", reason: op?.error ?? "rolled back", ms };
  return new Error(
    op?.error ??
      "interrupted: the daemon stopped before the cutover changed anything; run `steward patch cutover` again",
  );
}
