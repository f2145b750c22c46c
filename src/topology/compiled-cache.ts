/**
 * @module topology/compiled-cache
 * `steward up` has just compiled the topology; the daemon it starts reads that result from
 * `<home>/topology.json` instead of compiling it again in a child process (~0.3 s of every daemon
 * start). The entry is keyed by the file's bytes *and* the environment, since `${VAR}`
 * interpolation depends on both: a daemon started with another environment, or after an edit,
 * compiles afresh.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompiledTopology } from "./types.js";

/** Bumped whenever `CompiledTopology` changes shape, so a newer Steward never reads an older compile. */
const FORMAT = 4;

interface Entry {
  key: string;
  topology: CompiledTopology;
}

/** Digest of the topology file and of the environment it is interpolated with. */
export function compileKey(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const vars = Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join("\0");
  return createHash("sha256")
    .update(`format ${FORMAT}\0`)
    .update(readFileSync(file))
    .update("\0\0")
    .update(vars)
    .digest("hex");
}

export function writeCompiled(topology: CompiledTopology, key: string): void {
  mkdirSync(topology.home, { recursive: true, mode: 0o700 });
  const file = join(topology.home, "topology.json");
  writeFileSync(`${file}.tmp`, JSON.stringify({ key, topology } satisfies Entry), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The cached compile for `key`, or undefined (none, another key, unreadable). */
export function readCompiled(home: string, key: string): CompiledTopology | undefined {
  try {
    const entry = JSON.parse(readFileSync(join(home, "topology.json"), "utf8")) as Entry;
    return entry.key === key ? entry.topology : undefined;
  } catch {
    return undefined;
  }
}
