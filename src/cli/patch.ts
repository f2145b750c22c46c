/**
 * @module cli/patch
 * `steward patch <phase>`: online patching (docs/patching.md). `init --from DIR` lays the editions
 * out on disk by itself; `check` validates patches here (the daemon runs it as a short-lived child,
 * so the YAML parser, the schema and the tar reader stay out of the daemon); every other phase
 * runs in the daemon, which prints its progress here; `status` and `history` read the sessions.
 * Exit 1 when a phase fails or is refused, 2 for bad input.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { StewardError } from "../errors.js";
import type { PhaseResult } from "../patching/cycle.js";
import type { PatchApplicationRecord, PatchEditionRecord, PatchSessionRecord } from "../store/records.js";
import type { CompiledTopology } from "../topology/types.js";
import { formatMs } from "../process/duration.js";
import { call, stream } from "./client.js";
import { whileRecovering } from "./recovery.js";
import { ProgressPrinter } from "./render.js";
import { renderNodePatchStates, type NodePatchState } from "../cluster/patch-status.js";
import { registerPatchValidate } from "./patch-validate.js";

export interface PatchCliDeps {
  out: (line: string) => void;
  homeOf: (cmd: Command) => Promise<{ home: string; file: string }>;
  topologyOf: (cmd: Command) => Promise<CompiledTopology>;
}

interface StatusAnswer {
  root: string;
  links: { run: string; patch: string } | null;
  layoutProblem: string | null;
  open: PatchSessionRecord | null;
  applications: PatchApplicationRecord[];
  next: string;
  history: PatchSessionRecord[];
  /** In a cluster: each node's newest session. */
  nodes?: NodePatchState[];
  /** The cutover's journaled sub-steps (of the open session, else the newest). */
  cutoverSteps: { name: string; component: string; status: string; detail: string | null }[];
}

const socketOf = (t: { home: string }): string => resolve(t.home, "steward.sock");

export function registerPatch(program: Command, deps: PatchCliDeps): void {
  const { out } = deps;
  const patch = program
    .command("patch")
    .description("online patching: prepare, apply, finalize, cutover, cleanup (docs/patching.md)");
  const phase = (name: string, description: string): Command =>
    patch.command(name).description(description).option("-f, --file <path>", "topology file");
  /** A phase that a cluster runs on every node (unless `--this-node`). */
  const clusterPhase = (name: string, description: string): Command =>
    phase(name, description)
      .option(
        "--this-node",
        "in a cluster, run the phase on this node only (the primary drives every node otherwise)",
      )
      .option(
        "--abandon <yes|no>",
        "in a cluster, go on without a node that fails or goes down, when the rest keep every min_available (default yes)",
      );

  const run = async (cmd: Command, name: string, body: Record<string, unknown>): Promise<void> => {
    const opts = cmd.opts() as { thisNode?: boolean; abandon?: string };
    if (opts.abandon !== undefined && opts.abandon !== "yes" && opts.abandon !== "no")
      throw new StewardError("STW-1006", `--abandon expects yes or no, got \`${opts.abandon}\``);
    if (opts.thisNode !== true && name !== "init" && (await deps.topologyOf(cmd)).cluster) {
      const t = await deps.homeOf(cmd);
      const { followCluster } = await import("./cluster-operation.js");
      const asked = opts.abandon === "no" ? { ...body, abandon: false } : body;
      await followCluster(t, `/v1/cluster/patch/${name}`, asked, `patch ${name}`, out);
      return;
    }
    if (body.strategy !== undefined || opts.abandon !== undefined)
      throw new StewardError(
        "STW-1006",
        "--strategy and --abandon are for a cluster's phases; this node is not in a cluster, or --this-node was given",
      );
    const t = await deps.homeOf(cmd);
    const printer = new ProgressPrinter(out);
    const started = Date.now();
    await whileRecovering(() => stream(socketOf(t), `/v1/patch/${name}`, body, printer.onLine), out);
    if (printer.error) throw new StewardError("STW-3000", printer.error);
    const result = printer.patch;
    if (!result)
      throw new StewardError("STW-3000", `patch ${name}: the daemon closed the stream without a result`);
    printResult(result, Date.now() - started, out);
    if (!result.ok) process.exitCode = 1;
  };

  phase("init", "lay the editions out under patching.root from an existing application directory")
    .requiredOption("--from <dir>", "the application directory to copy into both editions")
    .action(async (opts: { from: string }, cmd: Command) => {
      const t = await deps.topologyOf(cmd);
      if (!t.patching) {
        const { PatchingNotConfiguredError } = await import("../patching/errors.js");
        throw new PatchingNotConfiguredError(t.file);
      }
      const { EditionLayout } = await import("../patching/layout.js");
      const layout = await EditionLayout.init(t.patching.root, resolve(opts.from), {
        exclude: t.patching.exclude,
      });
      const links = layout.read();
      out(
        `editions created under ${t.patching.root}: run → ${links.run}, patch → ${links.patch}; fs_ne/ holds patches and session logs`,
      );
      out(`components now start from ${layout.paths.runLink}; next: \`steward patch prepare\``);
    });

  clusterPhase("prepare", "open a patch cycle: sync the patch edition from run, run custom_sync, hold jobs")
    .option("--skip-sync-errors", "retry a sync patch that failed, with its errors tolerated")
    .action(async (opts: { skipSyncErrors?: boolean }, cmd: Command) =>
      run(cmd, "prepare", { skipSyncErrors: opts.skipSyncErrors === true }),
    );

  limitOptions(
    clusterPhase("apply", "apply patches (directories or .tar.gz) to the patch edition, in order")
      .argument("<patch...>", "patch directories or .tar.gz files")
      .option("--merge", "apply every patch's files first, then every step"),
  ).action(async (patches: string[], opts: LimitFlags & { merge?: boolean }, cmd: Command) =>
    run(cmd, "apply", {
      patches: patches.map((p) => resolve(p)),
      merge: opts.merge === true,
      ...(await parseLimits(opts)),
    }),
  );

  limitOptions(
    patch
      .command("check")
      .description(
        "check patches (directories or .tar.gz) without applying them: patch.yaml and every archive entry",
      )
      .argument("<patch...>", "patch directories or .tar.gz files")
      .option("--json", "print the checked patches (or the error) as JSON, as the daemon reads them")
      .option("--stage <dir>", "copy or extract each patch into a new directory under DIR, and keep it"),
  ).action(async (patches: string[], opts: LimitFlags & { json?: boolean; stage?: string }) =>
    checkCommand(
      patches.map((p) => resolve(p)),
      opts,
      out,
    ),
  );

  registerPatchValidate(patch, deps);

  clusterPhase("finalize", "run every verify command and compute the cutover plan").action(
    async (_o, cmd: Command) => run(cmd, "finalize", {}),
  );

  clusterPhase("cutover", "make the patch edition the run edition; roll back if it does not come up ready")
    .option("--wait-jobs <duration>", "wait at most this long for running jobs (default 10m)")
    .option("--cancel-jobs", "cancel jobs still running after --wait-jobs instead of refusing")
    .option(
      "--strategy <strategy>",
      "in a cluster: rolling (node by node, min_available kept over the cluster) or together (every node at once)",
    )
    .option(
      "--no-restart",
      "stop the components, switch the editions, and leave them stopped for manual steps",
    )
    .action(
      async (
        opts: { waitJobs?: string; cancelJobs?: boolean; restart: boolean; strategy?: string },
        cmd: Command,
      ) => {
        let waitJobs: number | undefined;
        if (opts.waitJobs !== undefined) {
          const { tryParseDuration } = await import("../topology/duration.js");
          const parsed = tryParseDuration(opts.waitJobs);
          if (!parsed.ok)
            throw new StewardError(
              "STW-1006",
              `--wait-jobs expects a duration like 30s or 5m: ${parsed.reason}`,
            );
          waitJobs = parsed.value;
        }
        if (opts.strategy !== undefined && opts.strategy !== "rolling" && opts.strategy !== "together")
          throw new StewardError(
            "STW-1006",
            `--strategy expects rolling or together, got \`${opts.strategy}\``,
          );
        await run(cmd, "cutover", {
          noRestart: !opts.restart,
          cancelJobs: opts.cancelJobs === true,
          ...(waitJobs !== undefined ? { waitJobs } : {}),
          ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
        });
      },
    );

  clusterPhase("cleanup", "remove what the old edition left behind; prune old session logs")
    .option("--mode <mode>", "quick | standard | full", "standard")
    .action(async (opts: { mode: string }, cmd: Command) => run(cmd, "cleanup", { mode: opts.mode }));

  clusterPhase(
    "abort",
    "close the open cycle before cutover; the patch edition is resynced at the next prepare",
  )
    .option("--cleanup", "also run a full cleanup")
    .action(async (opts: { cleanup?: boolean }, cmd: Command) =>
      run(cmd, "abort", { cleanup: opts.cleanup === true }),
    );

  clusterPhase("fs-clone", "copy the run edition over the patch edition (resumes a failed copy)")
    .option("--force", "start the copy over instead of resuming it")
    .action(async (opts: { force?: boolean }, cmd: Command) =>
      run(cmd, "fs-clone", { force: opts.force === true }),
    );

  phase("status", "the open session, each phase's state, and past sessions")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const t = await deps.homeOf(cmd);
      const s = await call<StatusAnswer>(socketOf(t), "GET", "/v1/patch/status");
      out(opts.json ? JSON.stringify(s, null, 2) : renderPatchStatus(s));
    });

  phase("history", "the patches each edition holds, and every patch applied")
    .option("--json", "print as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const t = await deps.homeOf(cmd);
      const h = await call<{
        links: { run: string; patch: string } | null;
        editions: PatchEditionRecord[];
        applications: PatchApplicationRecord[];
      }>(socketOf(t), "GET", "/v1/patch/history");
      if (opts.json) return out(JSON.stringify(h, null, 2));
      for (const e of h.editions) {
        const role = h.links?.run === e.edition ? "run" : h.links?.patch === e.edition ? "patch" : "?";
        out(
          `${e.edition} (${role}): ${e.patches.length ? e.patches.join(", ") : "no patches"}${e.needsResync ? " — full resync at the next prepare" : ""}`,
        );
      }
      for (const a of h.applications)
        out(
          `  session ${a.session}  ${a.patchId.padEnd(24)} ${a.kind.padEnd(5)} → ${a.edition}  ${a.state}${a.detail ? `: ${a.detail}` : ""}`,
        );
    });
}

interface LimitFlags {
  maxSize?: string;
  maxEntries?: string;
  maxRatio?: string;
}

/** The limits on what an archive may unpack to (patching/tar-safety), as options. */
function limitOptions(cmd: Command): Command {
  return cmd
    .option("--max-size <size>", "largest unpacked size of an archive, like 2GiB (default 1GiB)")
    .option("--max-entries <n>", "most entries an archive may hold (default 100000)")
    .option("--max-ratio <n>", "most an archive may unpack to per byte of itself, past 64MiB (default 100)");
}

/** The limit flags given, checked, as the API's `maxBytes`, `maxEntries`, `maxRatio`. */
async function parseLimits(
  opts: LimitFlags,
): Promise<{ maxBytes?: number; maxEntries?: number; maxRatio?: number }> {
  const bad = (flag: string, what: string, got: string): never => {
    throw new StewardError("STW-1006", `${flag} expects ${what}, got \`${got}\``, { httpStatus: 400 });
  };
  const whole = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return /^\d+$/.test(v) && Number.isSafeInteger(n) && n >= 1 ? n : bad(flag, "a whole number ≥ 1", v);
  };
  let maxBytes: number | undefined;
  if (opts.maxSize !== undefined) {
    const { tryParseSize } = await import("../topology/duration.js");
    const parsed = tryParseSize(opts.maxSize);
    maxBytes =
      parsed.ok && parsed.value >= 1 ? parsed.value : bad("--max-size", "a size like 2GiB", opts.maxSize);
  }
  const maxEntries = whole("--max-entries", opts.maxEntries);
  const maxRatio = whole("--max-ratio", opts.maxRatio);
  return {
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(maxEntries !== undefined ? { maxEntries } : {}),
    ...(maxRatio !== undefined ? { maxRatio } : {}),
  };
}

/**
 * `patch check`: runs here, not in the daemon (the daemon runs it as a child with `--json`).
 * Without `--stage`, an archive is unpacked into a temporary directory, removed afterwards.
 */
async function checkCommand(
  sources: string[],
  opts: LimitFlags & { json?: boolean; stage?: string },
  out: (line: string) => void,
): Promise<void> {
  const { checkPatches } = await import("../patching/patch-source.js");
  const { DEFAULT_TAR_LIMITS } = await import("../patching/tar-safety.js");
  const stage = opts.stage ?? (await mkdtemp(join(tmpdir(), "steward-check-")));
  try {
    const limits = { ...DEFAULT_TAR_LIMITS, ...(await parseLimits(opts)) };
    const checked = await checkPatches(sources, {
      stage,
      limits,
      stageDirectories: opts.stage !== undefined,
    });
    if (opts.json) return out(JSON.stringify({ patches: checked }));
    for (const { manifest: m, source } of checked) {
      const parts = [
        m.requires.length > 0 ? `requires ${m.requires.join(", ")}` : "",
        `${m.steps.length} step(s)`,
        `${m.verify.length} verify command(s)`,
        m.delete.length > 0 ? `${m.delete.length} path(s) to delete` : "",
      ].filter((p) => p !== "");
      out(`${source}: patch ${m.id} is valid (${m.description}): ${parts.join(", ")}`);
    }
  } catch (err) {
    if (!opts.json || !(err instanceof StewardError)) throw err;
    out(JSON.stringify(err.toJSON()));
    process.exitCode = 2;
  } finally {
    if (opts.stage === undefined) await rm(stage, { recursive: true, force: true });
  }
}

function printResult(r: PhaseResult, ms: number, out: (line: string) => void): void {
  for (const line of r.lines) out(`  ${line}`);
  out(
    `patch ${r.phase} (session ${r.session}): ${r.ok ? "done" : "failed"} in ${formatMs(ms)}; next: \`steward patch ${r.next}\``,
  );
}

export function renderPatchStatus(s: StatusAnswer): string {
  const lines = [
    `patching root ${s.root}: ${s.links ? `run → ${s.links.run}, patch → ${s.links.patch}` : `not usable: ${s.layoutProblem}`}`,
  ];
  if (s.open) {
    lines.push(
      `open: ${s.open.kind === "fs-clone" ? "fs-clone" : "patch"} session ${s.open.id} (${s.open.status}${s.open.reason ? `: ${s.open.reason}` : ""})`,
    );
    for (const [phase, p] of Object.entries(s.open.phases))
      lines.push(`  ${phase.padEnd(9)} ${p.state.padEnd(7)} ${p.detail ?? ""}`);
    for (const a of s.applications)
      lines.push(
        `  patch ${a.patchId}: ${a.kind} ${a.state}, ${a.stepsDone}/${a.stepsTotal} steps, logs ${a.logDir}`,
      );
    if (s.open.plan)
      for (const c of s.open.plan.components) lines.push(`  cutover plan: ${c.name} ${c.mode}`);
  } else lines.push("no session open");
  if (s.cutoverSteps.length > 0) {
    lines.push(`cutover steps${s.open ? "" : ` (session ${s.history[0]?.id})`}:`);
    for (const st of s.cutoverSteps)
      lines.push(
        `  ${st.name.padEnd(14)} ${st.component.padEnd(10)} ${st.status}${st.detail ? `  ${st.detail}` : ""}`,
      );
  }
  lines.push(`next: steward patch ${s.next}`);
  lines.push(...renderNodePatchStates(s.nodes ?? []));
  const past = s.history.filter((h) => h !== s.open && h.id !== s.open?.id);
  if (past.length > 0) {
    lines.push("history:");
    for (const h of past.slice(0, 10))
      lines.push(
        `  session ${h.id} ${h.kind} ${h.status}${h.reason ? ` (${h.reason})` : ""}, ${new Date(h.startedAt).toISOString()}${h.finishedAt ? `, took ${formatMs(h.finishedAt - h.startedAt)}` : ""}`,
      );
  }
  return lines.join("\n");
}
