/**
 * @module topology/load-isolated
 * The daemon compiles its topology in a short-lived child process (`steward validate --json`), so
 * the long-lived daemon never loads the YAML parser and the schema. Measured: they hold ~15 MB of
 * memory for the daemon's lifetime, and every replica spawn (a fork) costs more the bigger the
 * daemon is.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { StewardError, type ErrorDetails } from "../errors.js";
import type { CompiledTopology } from "./types.js";

const BIN = fileURLToPath(new URL("../../bin/steward.js", import.meta.url));

/** Like `loadTopology(file)`, in a child process; its errors keep their code and message. */
export function loadTopologyIsolated(file: string): Promise<CompiledTopology> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, "validate", "--json", "-f", file],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        let answer: {
          topology?: CompiledTopology;
          error?: { code: string; message: string; details: ErrorDetails };
        };
        try {
          answer = JSON.parse(stdout) as typeof answer;
        } catch {
          reject(
            new StewardError("STW-1013", `could not compile ${file}: ${err?.message ?? ""} ${stderr}`.trim()),
          );
          return;
        }
        if (answer.topology) resolve(answer.topology);
        else
          reject(
            new StewardError(
              answer.error?.code ?? "STW-1013",
              answer.error?.message ?? `could not compile ${file}`,
              {
                httpStatus: 400,
                details: answer.error?.details ?? {},
              },
            ),
          );
      },
    );
  });
}
