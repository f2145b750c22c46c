/**
 * @module patching/phase-order
 * Which phase may run now, given the newest sessions: the one place a phase is refused for being
 * out of order, each refusal naming the phase that can run next (design §6's "refuses when").
 */
import type { PatchPhase, PatchSessionRecord } from "../store/records.js";
import { PhaseOrderError } from "./errors.js";

/** A session still in progress: a cycle not cut over nor aborted, or an fs-clone not finished. */
export function isOpen(s: PatchSessionRecord): boolean {
  return s.status === "open" || s.status === "cutover-rolled-back";
}

/** The phase an open cycle can run next, for messages. */
export function nextPhase(s: PatchSessionRecord | undefined): string {
  if (!s || !isOpen(s)) return "prepare";
  if (s.kind === "fs-clone") return "fs-clone";
  const { prepare, apply, finalize } = s.phases;
  if (prepare?.state !== "done") return "prepare";
  if (apply?.state !== "done") return "apply <patch>";
  if (finalize?.state !== "done") return "finalize";
  return "cutover";
}

function describe(s: PatchSessionRecord): string {
  const done = (Object.entries(s.phases) as [PatchPhase, { state: string }][])
    .map(([p, r]) => `${p} ${r.state}`)
    .join(", ");
  return `${s.kind === "fs-clone" ? "fs-clone" : "patch"} session ${s.id} is open${done ? ` (${done})` : ""}`;
}

/** A phase of `s` still running: an earlier daemon died in it, or it runs now. */
export function runningPhase(s: PatchSessionRecord | undefined): PatchPhase | undefined {
  if (!s) return undefined;
  return (Object.entries(s.phases) as [PatchPhase, { state: string }][]).find(
    ([, r]) => r.state === "running",
  )?.[0];
}

/**
 * Throws `PhaseOrderError` when `phase` may not run with `open` (the open session, if any) and
 * `pendingCleanup` (a closed session whose cleanup has not run).
 */
export function assertCanRun(phase: PatchPhase, open: PatchSessionRecord | undefined): void {
  const refuse: (why: string, next?: string) => never = (why, next = nextPhase(open)) => {
    throw new PhaseOrderError(phase, why, next, open ? { session: open.id } : {});
  };
  const cycle = open?.kind === "cycle" ? open : undefined;
  switch (phase) {
    case "prepare":
      if (open?.kind === "fs-clone") refuse(`${describe(open)}; finish it first`, "fs-clone");
      if (cycle && cycle.phases.prepare?.state === "done")
        refuse(`a cycle is already open: ${describe(cycle)}`);
      return;
    case "apply":
      if (!cycle) refuse("no patch cycle is open", "prepare");
      if (cycle.phases.prepare?.state !== "done") refuse(`prepare has not finished in session ${cycle.id}`);
      if (cycle.phases.cutover) refuse(`the cutover of session ${cycle.id} has begun`);
      if (cycle.phases.finalize?.state === "done")
        refuse(`session ${cycle.id} is finalized; cut over, or abort and start a new cycle`, "cutover");
      return;
    case "finalize":
      if (!cycle) refuse("no patch cycle is open", "prepare");
      if (cycle.phases.apply?.state !== "done")
        refuse(
          cycle.phases.apply?.state === "failed"
            ? `apply failed in session ${cycle.id}: run it again (it resumes) or abort`
            : `no patch has been applied in session ${cycle.id}`,
          "apply <patch>",
        );
      if (cycle.phases.cutover?.state === "done" || cycle.phases.cutover?.state === "running")
        refuse(`the cutover of session ${cycle.id} has begun`, "cleanup");
      return;
    case "cutover":
      if (!cycle) refuse("no patch cycle is open", "prepare");
      if (cycle.phases.finalize?.state !== "done") refuse(`session ${cycle.id} is not finalized`);
      if (cycle.phases.cutover?.state === "running")
        refuse(`the cutover of session ${cycle.id} is running`, "status");
      return;
    case "abort":
      if (!cycle) refuse("no patch cycle is open", "prepare");
      // A cutover that failed was refused before it changed anything, or rolled back: abort is fine.
      if (cycle.phases.cutover && cycle.phases.cutover.state !== "failed")
        refuse(
          `the cutover of session ${cycle.id} has begun; a cutover finishes or rolls back by itself`,
          "status",
        );
      if (runningPhase(cycle)) refuse(`${runningPhase(cycle)} is running in session ${cycle.id}`, "status");
      return;
    case "cleanup":
    case "fs-clone": {
      const running = runningPhase(open);
      if (open && running && !(phase === "fs-clone" && open.kind === "fs-clone"))
        refuse(`${running} is running in session ${open.id}`, "status");
      if (phase === "fs-clone" && cycle)
        refuse(`${describe(cycle)}; fs-clone would overwrite its patch edition — abort it first`, "abort");
      return;
    }
  }
}
