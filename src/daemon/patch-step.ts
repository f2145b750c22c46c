/**
 * @module daemon/patch-step
 * This node's part of a cluster patch operation (cluster/operation-engine, kind `patch`): the
 * phase runs here exactly as `steward patch <phase>` runs it on one node (api/patch-phases, under
 * the phase lock). `apply` first reads each patch from the store (cluster/patch-blobs) into
 * `fs_ne/cluster-patches/` and checks its SHA-256 here. A phase this node has already done — a
 * cluster phase run again after another node failed — is not run twice: the step says so and is done.
 */
import { writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import type { PatchOperationArgs } from "../cluster/operation-types.js";
import { fetchPatchBlob, type PatchBlobRef } from "../cluster/patch-blobs.js";
import { PHASES, checkPhaseBody } from "../api/patch-phases.js";
import { SELECT_COMMIT, VOTE } from "../cluster/patch-sql.js";
import { OPS_CHANNEL } from "../cluster/operations-sql.js";
import type { PatchSessionRecord } from "../store/records.js";
import { isOpen } from "../patching/phase-order.js";
import type { DaemonPatching } from "./patch-wiring.js";

export interface PatchStepDeps {
  patching: DaemonPatching | undefined;
  /** A pool on the cluster's store, for the patch blobs. */
  pool: () => pg.Pool;
  node: string;
  /** How often a node at a `together` cutover's commit point reads the decision. */
  pollMs: number;
}

/** How long a node waits at the commit point before it rolls back by itself. */
const COMMIT_WAIT_MS = 10 * 60_000;

/**
 * This node's side of a `together` cutover's commit point (cluster/patch-drive takes it): says it
 * is ready, then waits for the primary's decision. Resolves to a reason to roll back, or undefined.
 */
async function commitPoint(deps: PatchStepDeps, operationId: string): Promise<string | undefined> {
  const pool = deps.pool();
  await pool.query(VOTE, [operationId, deps.node]);
  await pool.query(`NOTIFY ${OPS_CHANNEL}`);
  const until = Date.now() + COMMIT_WAIT_MS;
  while (Date.now() < until) {
    const row = await pool
      .query<{ decision: string; reason: string }>(SELECT_COMMIT, [operationId])
      .then((r) => r.rows[0])
      .catch(() => undefined); // the store away a moment: ask again
    if (row) return row.decision === "switch" ? undefined : `the cluster's commit point: ${row.reason}`;
    await new Promise((r) => setTimeout(r, deps.pollMs));
  }
  return `no decision at the cluster's commit point within ${COMMIT_WAIT_MS / 60_000} minutes: rolled back on this node`;
}

/** Where a patch read from the store lives on this node, and its mark once applied in a session. */
const blobDir = (p: DaemonPatching): string => join(p.layout.paths.root, "fs_ne", "cluster-patches");
const appliedMark = (p: DaemonPatching, ref: PatchBlobRef, session: number): string =>
  join(blobDir(p), ref.sha256, `applied-in-session-${session}`);

/** Whether every patch of `refs` was applied on this node in `session` (by a cluster step). */
export async function appliedIn(p: DaemonPatching, refs: PatchBlobRef[], session: number): Promise<boolean> {
  const marked = await Promise.all(
    refs.map((r) =>
      stat(appliedMark(p, r, session)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return marked.every(Boolean);
}

/** Why `phase` needs no run here: this node's newest session already did it and nothing after it began. */
async function alreadyDone(
  p: DaemonPatching,
  phase: string,
  refs: PatchBlobRef[],
): Promise<string | undefined> {
  const newest: PatchSessionRecord | undefined = (await p.sessions.list(1))[0];
  if (!newest || newest.kind !== "cycle") return undefined;
  const ph = newest.phases;
  const open = isOpen(newest);
  const here = `already done on this node (session ${newest.id})`;
  if (phase === "prepare" && open && ph.prepare?.state === "done" && !ph.apply) return here;
  if (phase === "apply" && open && ph.apply?.state === "done" && !ph.finalize && refs.length > 0)
    if (await appliedIn(p, refs, newest.id)) return here;
  if (phase === "finalize" && open && ph.finalize?.state === "done" && !ph.cutover) return here;
  if (phase === "cutover" && ph.cutover?.state === "done" && !ph.cleanup) return here;
  return undefined;
}

export function patchStepRunner(
  deps: PatchStepDeps,
): (args: PatchOperationArgs, operationId?: string) => Promise<{ ok: boolean; outcome: string }> {
  return async (args, operationId) => {
    const p = deps.patching;
    if (!p) return { ok: false, outcome: "this node's topology has no `patching` section" };
    const spec = PHASES[args.phase];
    if (!spec) return { ok: false, outcome: `no patch phase \`${args.phase}\`` };
    const refs = (args.body.blobs as PatchBlobRef[] | undefined) ?? [];
    const done = await alreadyDone(p, args.phase, refs);
    if (done) return { ok: true, outcome: done };
    const { blobs: _blobs, ...rest } = args.body;
    if (args.phase === "apply") {
      const files: string[] = [];
      for (const ref of refs) files.push(await fetchPatchBlob(deps.pool(), ref, blobDir(p), deps.node));
      rest.patches = files;
    }
    const body = checkPhaseBody(args.phase, rest);
    const release = p.lock.claim(args.phase);
    try {
      const together = args.phase === "cutover" && args.strategy === "together" && operationId !== undefined;
      const r = together
        ? await p.cycle.cutover({
            noRestart: body.noRestart === true,
            ...(body.waitJobs !== undefined ? { waitJobsMs: body.waitJobs as number } : {}),
            cancelJobs: body.cancelJobs === true,
            commit: () => commitPoint(deps, operationId),
          })
        : await spec.run(p, body);
      if (r.ok && args.phase === "apply")
        await Promise.all(refs.map((ref) => writeFile(appliedMark(p, ref, r.session), "")));
      const last = r.lines.at(-1) ?? "";
      return {
        ok: r.ok,
        outcome: r.ok
          ? `${args.phase} done (session ${r.session})${last ? `: ${last}` : ""}; next: ${r.next}`
          : `${args.phase} failed (session ${r.session}): ${r.lines.join("; ")}`,
      };
    } finally {
      release();
    }
  };
}
