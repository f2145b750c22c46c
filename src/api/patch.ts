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
import type { DaemonPatching } from "../daemon/patch-wiring.js";
import { PatchingNotConfiguredError } from "../patching/errors.js";
import { nextPhase, isOpen } from "../patching/phase-order.js";
import { ndjsonStream } from "./ndjson.js";
import type { NodePatchState } from "../cluster/patch-status.js";
import { checkPhaseBody, PHASES } from "./patch-phases.js";

export interface PatchControl {
  bus: EventBus;
  patching: DaemonPatching | undefined;
  topologyFile: string;
  admit(operation: "patch"): void;
  /** In a cluster: each node's newest patch session. */
  patchNodes?: (() => Promise<NodePatchState[] | undefined>) | undefined;
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
    const nodes = await daemon.patchNodes?.();
    return c.json({
      root: p.layout.paths.root,
      links,
      layoutProblem,
      open,
      applications,
      next: nextPhase(open ?? undefined),
      cutoverSteps,
      history: sessions,
      ...(nodes ? { nodes } : {}),
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
      const body = checkPhaseBody(phase, json);
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
