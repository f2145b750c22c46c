/**
 * @module api/patch-validate
 * `POST /v1/patch/validate` with `{ "patches": ["/abs/path", …] }` (optional): every check
 * `prepare` and `cutover` would make and each patch checked as `apply` would (patching/validate),
 * answered as `{ ok, records: [{ check, ok, detail }] }`. It changes nothing and takes no lock,
 * so it runs beside a phase (and then says which one runs). A body that is not as described, or a
 * patch path that is not absolute or does not exist, is refused with 400.
 */
import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { Hono } from "hono";
import { BadRequestError } from "../errors.js";
import type { ClusterView } from "../cluster/types.js";
import type { DaemonPatching } from "../daemon/patch-wiring.js";
import { checkPatchesIsolated } from "../patching/check-isolated.js";
import { validatePatching, type CheckRecord } from "../patching/validate.js";

export interface PatchValidateControl {
  patching: DaemonPatching | undefined;
  topologyFile: string;
  admit(operation: "patch"): void;
  cluster?: { view(): Promise<ClusterView> } | undefined;
}

/** What the route answers. */
export interface ValidateAnswer {
  ok: boolean;
  records: CheckRecord[];
}

function patchesOf(text: string): string[] {
  let body: unknown = {};
  if (text.trim() !== "")
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
    }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequestError("bad request body for patch validate: expected a JSON object");
  for (const key of Object.keys(body))
    if (key !== "patches")
      throw new BadRequestError(
        `bad request body for patch validate: unknown key \`${key}\`; it takes patches`,
        {
          key,
        },
      );
  const patches = (body as { patches?: unknown }).patches ?? [];
  if (!Array.isArray(patches) || !patches.every((p) => typeof p === "string" && p !== ""))
    throw new BadRequestError(
      "bad request body for patch validate: `patches` must be a list of non-empty strings",
    );
  for (const p of patches as string[]) {
    if (!isAbsolute(p)) throw new BadRequestError(`patch ${p}: expected an absolute path`, { patch: p });
    if (!existsSync(p))
      throw new BadRequestError(`patch ${p}: no such file or directory; give a patch directory or .tar.gz`, {
        patch: p,
      });
  }
  return patches as string[];
}

export function patchValidateRoute(app: Hono, daemon: PatchValidateControl): void {
  app.post("/v1/patch/validate", async (c) => {
    const sources = patchesOf(await c.req.text());
    const p = daemon.patching;
    const cluster = daemon.cluster;
    const records = await validatePatching(
      {
        topologyFile: daemon.topologyFile,
        admit: () => daemon.admit("patch"),
        patching: p && {
          config: p.cycle.patching,
          layout: p.layout,
          sessions: p.sessions,
          lockedBy: () => p.lock.running,
        },
        cluster: cluster && (() => cluster.view()),
        checkPatch: async (source, stage) => (await checkPatchesIsolated([source], { stage }))[0]!,
      },
      sources,
    );
    return c.json({ ok: records.every((r) => r.ok), records } satisfies ValidateAnswer);
  });
}
