/**
 * @module patching/check-isolated
 * The daemon checks patches in a short-lived child process (`steward patch check --json`), as it
 * compiles its topology (topology/load-isolated): the YAML parser, the schema and the tar reader
 * never load into the long-lived daemon, and unpacking an archive — CPU and memory — happens in
 * another process, leaving the daemon's event loop (and so the edge) free. The child's answer is
 * re-checked by hand (patching/checked-patch).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { StewardError, type ErrorDetails } from "../errors.js";
import { checkedPatchFromJson, type CheckedPatch } from "./checked-patch.js";
import type { TarLimits } from "./tar-safety.js";

const BIN = fileURLToPath(new URL("../../bin/steward.js", import.meta.url));

/** Heap of the checking child: parsing and streaming need little; a runaway input stops there. */
const CHILD_HEAP_MB = 256;

/**
 * Checks `sources` (absolute paths) in a child; with `stage`, each is copied or extracted into a
 * new directory there. All or nothing: on a refusal nothing stays staged.
 * @throws the child's error, with its code, message and details (InvalidPatchError's STW-3001…)
 */
export function checkPatchesIsolated(
  sources: readonly string[],
  opts: { stage?: string; limits?: Partial<TarLimits> } = {},
): Promise<CheckedPatch[]> {
  const args = [`--max-old-space-size=${CHILD_HEAP_MB}`, BIN, "patch", "check", "--json"];
  if (opts.stage !== undefined) args.push("--stage", opts.stage);
  const { maxBytes, maxEntries, maxRatio } = opts.limits ?? {};
  if (maxBytes !== undefined) args.push("--max-size", String(maxBytes));
  if (maxEntries !== undefined) args.push("--max-entries", String(maxEntries));
  if (maxRatio !== undefined) args.push("--max-ratio", String(maxRatio));
  args.push("--", ...sources);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      let answer: {
        patches?: unknown[];
        error?: { code: string; message: string; details: ErrorDetails };
      };
      try {
        answer = JSON.parse(stdout) as typeof answer;
      } catch {
        reject(
          new StewardError(
            "STW-3000",
            `could not check ${sources.join(", ")}: ${err?.message ?? ""} ${stderr}`.trim(),
          ),
        );
        return;
      }
      if (answer.error) {
        const { code, message, details } = answer.error;
        reject(new StewardError(code, message, { httpStatus: 400, details }));
        return;
      }
      try {
        const patches = answer.patches ?? [];
        if (patches.length !== sources.length)
          throw new StewardError(
            "STW-3000",
            `the patch check answered for ${patches.length} of ${sources.length} patches`,
          );
        resolve(patches.map((p, i) => checkedPatchFromJson(p, sources[i]!)));
      } catch (bad) {
        reject(bad);
      }
    });
  });
}
