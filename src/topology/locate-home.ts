/**
 * @module topology/locate-home
 * The CLI's fast path: commands that only talk to a running daemon need the home (where the socket
 * is), not a validated topology. This finds a top-level `home:` line without loading the YAML
 * parser or the schema (together ~150 ms of start-up per CLI call); anything unusual (quotes with
 * escapes, flow style, a bad `${…}`) returns undefined and the caller falls back to the full
 * `loadTopology()`, which explains any problem.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { TopologyReadError } from "../errors.js";
import { DEFAULTS } from "./defaults.js";
import { interpolate } from "./interpolate.js";

export interface Located {
  file: string;
  home: string;
}

/** Returns undefined when only a full load can tell what is wrong with the file. */
export function locateHome(file: string, env: NodeJS.ProcessEnv = process.env): Located | undefined {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TopologyReadError(file, e.code === "ENOENT" ? "no such file" : e.message, err);
  }
  const raw = homeLine(source);
  if (raw === undefined) return undefined;
  const r = interpolate(raw, { env, values: { node: hostname() }, spawnVariables: [], template: false });
  if (r.problems.length > 0) return undefined;
  return { file, home: resolve(dirname(file), r.value) };
}

/** A plain or simply quoted top-level `home:` value; `DEFAULTS.home` when there is none; undefined when unsure. */
function homeLine(source: string): string | undefined {
  const lines = source.split("\n").filter((l) => /^home\s*:/.test(l));
  if (lines.length === 0) return /^\s*[{[]/m.test(source) ? undefined : DEFAULTS.home;
  if (lines.length > 1) return undefined;
  const value = lines[0]!
    .replace(/^home\s*:/, "")
    .replace(/\s+#.*$/, "")
    .trim();
  const quoted = /^(["'])([^"'\\]*)\1$/.exec(value);
  if (quoted) return quoted[2];
  const plain = value.replace(/\$\{[^}]*\}/g, "x"); // `${…}` is Steward's, not YAML's
  return /^[^"'{}[\]&*!|>%@`,]+$/.test(plain) ? value : undefined;
}
