/**
 * @module patching/validate
 * `steward patch validate [patch…]`: every check `prepare` and `cutover` would make, and each
 * named patch checked as `apply` would check it — without changing anything: no lock is taken, no
 * session written, the editions' links are read without being repaired, and a patch staged for its
 * check is removed again. Each check is one record `{ check, ok, detail }`; a failed one says why
 * and what to do. All is well only when every record is ok.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StewardError } from "../errors.js";
import type { PatchSessionRecord } from "../store/records.js";
import type { CompiledPatching } from "../topology/types.js";
import type { CheckedPatch } from "./checked-patch.js";
import { freeBytes, treeSize } from "./disk.js";
import { InsufficientDiskError, MissingRequirementError, PatchingNotConfiguredError } from "./errors.js";
import type { EditionLayout, EditionName } from "./layout.js";
import { assertCanRun, nextPhase, runningPhase } from "./phase-order.js";
import type { Sessions } from "./sessions.js";
import { fail, ok, timed, type CheckRecord } from "./check-record.js";
import { clusterChecks, type ValidateNode } from "./validate-cluster.js";

export type { CheckRecord, ValidateNode };

export interface ValidateDeps {
  topologyFile: string;
  /** Throws when the daemon cannot take a patch phase now (recovering, shutting down). */
  admit(): void;
  patching:
    | {
        config: CompiledPatching;
        layout: EditionLayout;
        sessions: Sessions;
        /** The phase holding the daemon's phase lock, if any (read, never taken). */
        lockedBy(): string | undefined;
      }
    | undefined;
  /** Present on a cluster node: every node, and the primary. */
  cluster?: (() => Promise<{ primary: string | null; nodes: ValidateNode[] }>) | undefined;
  /** Checks one patch as `apply` does (patching/check-isolated), staged under `stage`. */
  checkPatch(source: string, stage: string): Promise<CheckedPatch>;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

/**
 * Every check, in order: the daemon, patching, the editions, disk space, the store, the session
 * state, each patch and its `requires`, then the cluster's nodes and digests.
 * @example await validatePatching(deps, ["/srv/patches/fix-1"]) // [{ check: "daemon", ok: true, … }, …]
 */
export async function validatePatching(deps: ValidateDeps, sources: string[]): Promise<CheckRecord[]> {
  const records: CheckRecord[] = [];
  try {
    deps.admit();
    records.push(ok("daemon", "accepts patch phases"));
  } catch (err) {
    records.push(fail("daemon", (err as Error).message));
  }
  const p = deps.patching;
  let have: Awaited<ReturnType<typeof held>>;
  if (!p) records.push(fail("patching", new PatchingNotConfiguredError(deps.topologyFile).message));
  else {
    records.push(ok("patching", `root ${p.layout.paths.root}, sync ${p.config.sync}`));
    const links = readLinks(p.layout, records);
    if (links) records.push(await diskSpace(p.layout, p.config, links.run));
    const state = await sessionState(p, records, sources.length > 0);
    // A store that did not answer is not asked again (each read would wait out its timeout).
    if (state.reachable) have = await held(p.sessions, links, state.open);
  }
  await checkPatches(deps, p?.layout, sources, have, records);
  if (deps.cluster) records.push(...(await clusterChecks(deps.cluster)));
  return records;
}

/** The editions' links, read without repairing anything. */
function readLinks(
  layout: EditionLayout,
  records: CheckRecord[],
): { run: EditionName; patch: EditionName } | undefined {
  try {
    const links = layout.read({ repair: false });
    records.push(ok("editions", `run → ${links.run}, patch → ${links.patch}; fs1/, fs2/ present`));
    return links;
  } catch (err) {
    records.push(fail("editions", (err as Error).message));
    return undefined;
  }
}

/** As prepare checks it: the run edition's size plus `disk_margin`, against the free space. */
async function diskSpace(
  layout: EditionLayout,
  config: CompiledPatching,
  run: EditionName,
): Promise<CheckRecord> {
  try {
    const size = await treeSize(realpathSync(layout.dir(run)));
    const needed = size + config.diskMarginBytes;
    const free = await freeBytes(layout.paths.root);
    if (free < needed)
      return fail("disk space", new InsufficientDiskError(layout.paths.root, needed, free).message);
    return ok(
      "disk space",
      `need ${mb(needed)} (run edition ${mb(size)} + disk_margin ${mb(config.diskMarginBytes)}), ${mb(free)} free`,
    );
  } catch (err) {
    return fail("disk space", `cannot measure it: ${(err as Error).message}`);
  }
}

/** The store, the phase lock and the phase order; returns whether the store answered, and the open session. */
async function sessionState(
  p: NonNullable<ValidateDeps["patching"]>,
  records: CheckRecord[],
  patchesNamed: boolean,
): Promise<{ reachable: boolean; open?: PatchSessionRecord | undefined }> {
  let open: PatchSessionRecord | undefined;
  const started = Date.now();
  try {
    await timed("the store", p.sessions.store.listPatchSessions(1));
    records.push(ok("store", `answered a read in ${Date.now() - started} ms`));
    open = await timed("the store", p.sessions.open());
  } catch (err) {
    records.push(
      fail(
        "store",
        `${(err as Error).message}; \`steward status\` shows the store's state — fix it and run validate again`,
      ),
    );
    records.push(fail("session", "unknown: the store did not answer"));
    return { reachable: false };
  }
  const running = p.lockedBy() ?? runningPhase(open);
  records.push(
    running
      ? fail(
          "phase lock",
          `\`patch ${running}\` is running; wait for it to finish (\`steward patch status\` shows its progress)`,
        )
      : ok("phase lock", "free: no patch phase is running"),
  );
  records.push(phaseOrder(open, patchesNamed));
  return { reachable: true, open };
}

/** Whether prepare or cutover (or, with patches named, apply) could start now, and which phase is next. */
function phaseOrder(open: PatchSessionRecord | undefined, patchesNamed: boolean): CheckRecord {
  const refusal = (phase: "prepare" | "apply" | "cutover"): string | undefined => {
    try {
      assertCanRun(phase, open);
      return undefined;
    } catch (err) {
      return err instanceof StewardError ? String(err.details.why) : (err as Error).message;
    }
  };
  const where = open
    ? `${open.kind === "fs-clone" ? "fs-clone" : "patch"} session ${open.id} is open${phases(open)}`
    : "no session is open";
  const next = `next: \`steward patch ${nextPhase(open)}\``;
  const prepare = refusal("prepare");
  const cutover = refusal("cutover");
  if (prepare === undefined) return ok("session", `${where}; prepare can start now`);
  if (cutover === undefined) return ok("session", `${where}; cutover can start now`);
  if (patchesNamed && refusal("apply") === undefined) return ok("session", `${where}; apply can start now`);
  return fail("session", `${where}; prepare cannot start (${prepare}), nor cutover (${cutover}); ${next}`);
}

function phases(s: PatchSessionRecord): string {
  const done = Object.entries(s.phases).map(([phase, r]) => `${phase} ${r.state}`);
  return done.length > 0 ? ` (${done.join(", ")})` : "";
}

/**
 * What the patch edition holds when `apply` runs: after prepare, its record; before it, the run
 * edition's (prepare brings the patch edition level with run).
 */
async function held(
  sessions: Sessions,
  links: { run: EditionName; patch: EditionName } | undefined,
  open: PatchSessionRecord | undefined,
): Promise<{ patches: Set<string>; source: string } | undefined> {
  try {
    if (open?.kind === "cycle" && open.phases.prepare?.state === "done") {
      const e = await timed("the store", sessions.edition(open.patchEdition));
      return { patches: new Set(e.patches), source: `the patch edition (${open.patchEdition})` };
    }
    if (!links) return undefined;
    const e = await timed("the store", sessions.edition(links.run));
    return {
      patches: new Set(e.patches),
      source: `the run edition (${links.run}), which prepare brings the patch edition level with`,
    };
  } catch {
    return undefined;
  }
}

/**
 * Each patch in its own check child (so every refused one is reported, not just the first), staged
 * where `apply` stages (`fs_ne/tmp`, else a temporary directory) and removed at once; then its
 * `requires` against what the edition holds plus the patches before it in the list.
 */
async function checkPatches(
  deps: ValidateDeps,
  layout: EditionLayout | undefined,
  sources: string[],
  have: { patches: Set<string>; source: string } | undefined,
  records: CheckRecord[],
): Promise<void> {
  if (sources.length === 0) return;
  const base = layout && existsSync(layout.paths.tmp) ? layout.paths.tmp : tmpdir();
  const stage = await mkdtemp(join(base, "validate-"));
  const earlier: string[] = [];
  try {
    for (const source of sources) {
      let checked: CheckedPatch;
      try {
        checked = await deps.checkPatch(source, stage);
      } catch (err) {
        records.push(fail(`patch ${source}`, (err as Error).message));
        continue;
      }
      if (checked.staging) await rm(checked.staging, { recursive: true, force: true });
      const m = checked.manifest;
      records.push(
        ok(
          `patch ${source}`,
          `patch ${m.id} is valid (${m.description}): ${m.steps.length} step(s), ${m.verify.length} verify command(s)${m.delete.length ? `, ${m.delete.length} path(s) to delete` : ""}`,
        ),
      );
      records.push(requires(m.id, m.requires, have, earlier));
      earlier.push(m.id);
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

function requires(
  id: string,
  needs: string[],
  have: { patches: Set<string>; source: string } | undefined,
  earlier: string[],
): CheckRecord {
  const check = `requires of ${id}`;
  if (needs.length === 0) return ok(check, "requires nothing");
  const missing = needs.filter((r) => !earlier.includes(r) && !have?.patches.has(r));
  if (missing.length > 0) {
    const unknown = have ? "" : " (what the patch edition holds is unknown: see the checks above)";
    return fail(check, `${new MissingRequirementError(id, missing).message}${unknown}`);
  }
  const by = needs.map((r) =>
    earlier.includes(r) ? `${r} (earlier in this list)` : `${r} (held by ${have?.source})`,
  );
  return ok(check, `satisfied: ${by.join(", ")}`);
}
