/**
 * @module api/patch-phases
 * The patch phases as the control API and cluster steps run them: each phase's options (checked by
 * hand: the daemon stays free of the schema library; unknown keys and wrong types are refused with
 * 400) and how it runs on this node's cycle.
 */
import { BadRequestError } from "../errors.js";
import type { PhaseResult } from "../patching/cycle.js";
import type { DaemonPatching } from "../daemon/patch-wiring.js";
import { checkWhole, DURATION_MS } from "./limits.js";

export type Body = Record<string, unknown>;

/** Each phase: the keys its body may have, with their types, and how it runs. */
export const PHASES: Record<
  string,
  {
    keys: Record<string, "boolean" | "string" | "strings" | "ms" | "whole">;
    run: (p: DaemonPatching, b: Body) => Promise<PhaseResult>;
  }
> = {
  prepare: {
    keys: { skipSyncErrors: "boolean" },
    run: (p, b) => p.cycle.prepare({ skipSyncErrors: b.skipSyncErrors === true }),
  },
  apply: {
    // maxBytes, maxEntries, maxRatio: limits on what an archive may unpack to (patching/tar-safety).
    keys: { patches: "strings", merge: "boolean", maxBytes: "whole", maxEntries: "whole", maxRatio: "whole" },
    run: (p, b) => {
      const patches = (b.patches as string[] | undefined) ?? [];
      if (patches.length === 0)
        throw new BadRequestError(
          "bad request body: `patches` must name at least one patch (a directory or .tar.gz)",
        );
      const limits = Object.fromEntries(
        (["maxBytes", "maxEntries", "maxRatio"] as const).flatMap((k) =>
          b[k] === undefined ? [] : [[k, b[k]]],
        ),
      ) as { maxBytes?: number; maxEntries?: number; maxRatio?: number };
      return p.cycle.apply(patches, { merge: b.merge === true, limits });
    },
  },
  finalize: { keys: {}, run: (p) => p.cycle.finalize() },
  cutover: {
    keys: { noRestart: "boolean", waitJobs: "ms", cancelJobs: "boolean" },
    run: (p, b) =>
      p.cycle.cutover({
        noRestart: b.noRestart === true,
        ...(b.waitJobs !== undefined ? { waitJobsMs: b.waitJobs as number } : {}),
        cancelJobs: b.cancelJobs === true,
      }),
  },
  cleanup: {
    keys: { mode: "string" },
    run: (p, b) => {
      const mode = b.mode ?? "standard";
      if (mode !== "quick" && mode !== "standard" && mode !== "full")
        throw new BadRequestError("bad request body: `mode` must be quick, standard or full", { mode });
      return p.cycle.cleanup({ mode });
    },
  },
  abort: { keys: { cleanup: "boolean" }, run: (p, b) => p.cycle.abort({ cleanup: b.cleanup === true }) },
  "fs-clone": { keys: { force: "boolean" }, run: (p, b) => p.cycle.fsClone({ force: b.force === true }) },
};

/** A phase's body, checked: throws BadRequestError (400) naming the key. */
export function checkPhaseBody(phase: string, body: unknown): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequestError(`bad request body for patch ${phase}: expected a JSON object`);
  const spec = PHASES[phase]!.keys;
  for (const [key, value] of Object.entries(body as Body)) {
    const want = spec[key];
    if (!want)
      throw new BadRequestError(
        `bad request body for patch ${phase}: unknown key \`${key}\`${Object.keys(spec).length ? `; it takes ${Object.keys(spec).join(", ")}` : "; it takes none"}`,
        { key },
      );
    const ok =
      want === "boolean"
        ? typeof value === "boolean"
        : want === "string"
          ? typeof value === "string"
          : want === "ms"
            ? checkWhole(key, value, DURATION_MS) >= 0
            : want === "whole"
              ? checkWhole(key, value, { min: 1, max: Number.MAX_SAFE_INTEGER }) >= 1
              : Array.isArray(value) && value.every((v) => typeof v === "string" && v !== "");
    if (!ok)
      throw new BadRequestError(
        `bad request body for patch ${phase}: \`${key}\` must be ${want === "ms" ? "a whole number of milliseconds" : want === "strings" ? "a list of non-empty strings" : `a ${want}`}`,
        { key },
      );
  }
  // What a phase would refuse is refused here, before the phase lock is taken.
  const b = body as Body;
  if (phase === "apply" && ((b.patches as string[] | undefined) ?? []).length === 0)
    throw new BadRequestError(
      "bad request body: `patches` must name at least one patch (a directory or .tar.gz)",
    );
  if (
    phase === "cleanup" &&
    b.mode !== undefined &&
    !["quick", "standard", "full"].includes(b.mode as string)
  )
    throw new BadRequestError("bad request body: `mode` must be quick, standard or full", { mode: b.mode });
  return b;
}
