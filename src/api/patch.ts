/**
 * @module api/patch
 * The patch cycle's part of the control API. `POST /v1/patch/<phase>` runs a phase and streams
 * NDJSON like an operation: progress events, then one `{"type":"patch","result":…}` (or an error).
 * `GET /v1/patch/status` and `GET /v1/patch/history` read the sessions. Bodies are checked by hand
 * (the daemon stays free of the schema library): unknown keys and wrong types are refused with 400.
 */
import type { Hono } from "hono";
import { BadRequestError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import type { PhaseResult } from "../patching/cycle.js";
import type { DaemonPatching } from "../daemon/patch-wiring.js";
import { PatchingNotConfiguredError } from "../patching/errors.js";
import { nextPhase, isOpen } from "../patching/phase-order.js";
import { ndjsonStream } from "./ndjson.js";
import { checkWhole, DURATION_MS } from "./limits.js";

export interface PatchControl {
  bus: EventBus;
  patching: DaemonPatching | undefined;
  topologyFile: string;
  admit(operation: "patch"): void;
}

type Body = Record<string, unknown>;

/** Each phase: the keys its body may have, with their types, and how it runs. */
const PHASES: Record<
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

function check(phase: string, body: unknown): Body {
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

export function patchRoutes(app: Hono, daemon: PatchControl): void {
  const patching = (): DaemonPatching => {
    if (!daemon.patching) throw new PatchingNotConfiguredError(daemon.topologyFile);
    return daemon.patching;
  };

  app.get("/v1/patch/status", async (c) => {
    const p = patching();
    const sessions = await p.sessions.list(20);
    const open = sessions.find(isOpen) ?? null;
    let links: { run: string; patch: string } | null = null;
    let layoutProblem: string | null = null;
    try {
      links = p.layout.read();
    } catch (err) {
      layoutProblem = (err as Error).message;
    }
    const applications = open ? await p.sessions.applications(open.id) : [];
    // The cutover's sub-steps, from its journal: of the open session, else of the newest one.
    const latest = open ?? sessions[0];
    const operation = latest?.phases.cutover?.operationId;
    const cutoverSteps = operation
      ? (await p.sessions.store.listSteps(operation))
          .filter((st) => st.index === null)
          .map((st) => ({ name: st.name, component: st.component, status: st.status, detail: st.detail }))
      : [];
    return c.json({
      root: p.layout.paths.root,
      links,
      layoutProblem,
      open,
      applications,
      next: nextPhase(open ?? undefined),
      cutoverSteps,
      history: sessions,
    });
  });

  app.get("/v1/patch/history", async (c) => {
    const p = patching();
    const editions = await Promise.all(["fs1", "fs2"].map((e) => p.sessions.edition(e)));
    const applications = await p.sessions.store.listPatchApplications({ node: p.sessions.node });
    return c.json({ links: safeLinks(p), editions, applications });
  });

  for (const phase of Object.keys(PHASES)) {
    app.post(`/v1/patch/${phase}`, async (c) => {
      const text = await c.req.text();
      let json: unknown = {};
      if (text.trim() !== "")
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
        }
      const body = check(phase, json);
      daemon.admit("patch");
      const p = patching();
      // One phase at a time; released however the phase ends, even by a throw before its first await.
      const release = p.lock.claim(phase);
      let stream: Response;
      try {
        stream = ndjsonStream(
          daemon.bus,
          [{ type: "plan", operation: `patch ${phase}`, components: [] }],
          async () => {
            try {
              return await PHASES[phase]!.run(p, body);
            } finally {
              release();
            }
          },
          (result) => ({ type: "patch", result }),
        );
      } catch (err) {
        release();
        throw err;
      }
      return stream;
    });
  }
}

function safeLinks(p: DaemonPatching): { run: string; patch: string } | null {
  try {
    return p.layout.read();
  } catch {
    return null;
  }
}
