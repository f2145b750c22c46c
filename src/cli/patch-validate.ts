/**
 * @module cli/patch-validate
 * `steward patch validate [patch…] [--json]`: asks the daemon for every check `prepare` and
 * `cutover` would make, and each named patch checked as `apply` would (api/patch-validate), and
 * prints one line per check: `ok` or `FAIL`, its name, the numbers or the reason and what to do.
 * Changes nothing. Exit 0 when every check passed, 1 when one failed (a daemon that is not running
 * is one failed check: the others need it), 2 for bad input (a patch path that does not exist).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { StewardError } from "../errors.js";
import type { ValidateAnswer } from "../api/patch-validate.js";
import { call } from "./client.js";

export interface PatchValidateDeps {
  out: (line: string) => void;
  homeOf: (cmd: Command) => Promise<{ home: string; file: string }>;
}

export function registerPatchValidate(patch: Command, deps: PatchValidateDeps): void {
  patch
    .command("validate")
    .description(
      "run every check prepare and cutover would make, and check each patch as apply would; change nothing",
    )
    .argument("[patch...]", "patch directories or .tar.gz files to check")
    .option("-f, --file <path>", "topology file")
    .option("--json", "print the checks as JSON: { ok, records: [{ check, ok, detail }] }")
    .action(async (patches: string[], opts: { json?: boolean }, cmd: Command) => {
      const sources = patches.map((p) => resolve(p));
      for (const [i, s] of sources.entries())
        if (!existsSync(s))
          throw new StewardError(
            "STW-1006",
            `patch ${patches[i]}: no such file or directory (${s}); give a patch directory or .tar.gz`,
            { httpStatus: 400, details: { patch: s } },
          );
      const t = await deps.homeOf(cmd);
      const socket = resolve(t.home, "steward.sock");
      const answer = await call<ValidateAnswer>(socket, "POST", "/v1/patch/validate", {
        patches: sources,
      }).catch((err: unknown): ValidateAnswer => {
        if (!(err instanceof StewardError) || err.code !== "STW-1007") throw err;
        const detail = `${err.message}; validate asks the daemon for every other check`;
        return { ok: false, records: [{ check: "daemon", ok: false, detail }] };
      });
      print(answer, opts.json === true, deps.out);
      if (!answer.ok) process.exitCode = 1;
    });
}

function print(answer: ValidateAnswer, json: boolean, out: (line: string) => void): void {
  if (json) return out(JSON.stringify(answer, null, 2));
  for (const r of answer.records)
    out(`${r.ok ? "ok  " : "FAIL"} ${r.check}: ${r.detail.split("\n").join("\n       ")}`);
  const failed = answer.records.filter((r) => !r.ok).length;
  out(
    failed === 0
      ? `all ${answer.records.length} checks passed`
      : `${failed} of ${answer.records.length} checks failed`,
  );
}
