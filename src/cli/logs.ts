/**
 * @module cli/logs
 * `steward logs <component> [-f] [-n N]`: reads the replicas' log files directly (they live in
 * `<home>/logs/<component>/<replica>.log`), so logs can be read even when the daemon is down.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { follow, tailLines } from "../process/index.js";
import type { CompiledComponent } from "../topology/types.js";

export async function showLogs(
  home: string,
  spec: CompiledComponent,
  opts: { follow: boolean; lines: number; replica?: number },
  out: (text: string) => void,
): Promise<void> {
  const indexes = opts.replica === undefined ? [...Array(spec.replicas).keys()] : [opts.replica];
  const files = indexes.map((i) => ({ i, file: join(home, "logs", spec.name, `${i}.log`) }));
  const prefix = (i: number): string => (spec.replicas > 1 ? `${spec.name}[${i}] | ` : "");
  for (const { i, file } of files) {
    if (!existsSync(file)) {
      out(`${prefix(i)}(no log yet: ${file})\n`);
      continue;
    }
    for (const line of await tailLines(file, opts.lines)) out(`${prefix(i)}${line}\n`);
  }
  if (!opts.follow) return;
  const stops = files.map(({ i, file }) => {
    let partial = "";
    return follow(file, existsSync(file) ? statSync(file).size : 0, (chunk: string) => {
      const text = partial + chunk;
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) out(`${prefix(i)}${line}\n`);
    });
  });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  for (const stop of stops) stop();
}
