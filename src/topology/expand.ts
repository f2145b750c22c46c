/**
 * @module topology/expand
 * Load-time interpolation of a whole parsed topology: every string value goes through
 * `interpolate()` with the rules of the key it sits under (where `${port}` may appear, whether `$${`
 * stays escaped for spawn time). `home` is resolved first, since `${home}` may appear everywhere else.
 */
import { resolve } from "node:path";
import { DEFAULTS } from "./defaults.js";
import { interpolate, type SpawnVariable } from "./interpolate.js";
import type { PathIssue } from "./locate.js";

export interface ExpandOptions {
  env: NodeJS.ProcessEnv;
  /** Value of `${node}`. */
  node: string;
  /** Directory of the topology file. */
  dir: string;
}

export interface Expanded {
  data: unknown;
  /** Absolute home: `home:` resolved against the file's directory, `.steward` beside it by default. */
  home: string;
  issues: PathIssue[];
}

/** Keys of a component whose strings are resolved at load time (everything else is a spawn-time template). */
const COMPONENT_PLAIN = new Set([
  "cwd",
  "replicas",
  "depends_on",
  "stop",
  "restart",
  "offline_code",
  "min_available",
  "logs",
]);
const JOB_PLAIN = new Set(["cwd", "schedule", "concurrency", "during_maintenance", "during_patching"]);

interface Mode {
  template: boolean;
  spawn: readonly SpawnVariable[];
}
const PLAIN: Mode = { template: false, spawn: [] };
const COMPONENT_TEMPLATE: Mode = { template: true, spawn: ["port", "replica", "edition"] };
const EDITION_TEMPLATE: Mode = { template: true, spawn: ["edition"] };
/** `reseed.command` runs once per component and node, from a peer: no port or replica of its own. */
const RESEED_TEMPLATE: Mode = { template: true, spawn: ["peer", "peer_port", "peer_node"] };

/** How the string at `path` is interpolated. */
export function modeOf(path: readonly PropertyKey[]): Mode {
  const [section, name, key] = path;
  if (section === "components" && key !== undefined) {
    if (key === "reseed") return path[3] === "command" ? RESEED_TEMPLATE : PLAIN;
    return COMPONENT_PLAIN.has(String(key)) ? PLAIN : COMPONENT_TEMPLATE;
  }
  if (section === "defaults" && name === "drain") return COMPONENT_TEMPLATE;
  if (section === "jobs" && key !== undefined) return JOB_PLAIN.has(String(key)) ? PLAIN : EDITION_TEMPLATE;
  if (section === "patching") return EDITION_TEMPLATE;
  return PLAIN;
}

/**
 * Interpolates every string of `data` (plain data from the YAML document), collecting each problem
 * at its key path.
 */
export function expandTopology(data: unknown, opts: ExpandOptions): Expanded {
  const issues: PathIssue[] = [];
  const values = { node: opts.node };
  const top = isRecord(data) ? data : undefined;

  let homeText: string = DEFAULTS.home;
  if (typeof top?.home === "string") {
    const r = interpolate(top.home, { env: opts.env, values, spawnVariables: [], template: false });
    for (const message of r.problems) issues.push({ path: ["home"], message });
    homeText = r.value;
  }
  const home = resolve(opts.dir, homeText);

  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === "string") {
      const mode = path.length === 1 && path[0] === "home" ? undefined : modeOf(path);
      if (!mode) return homeText;
      const r = interpolate(v, {
        env: opts.env,
        values: { ...values, home },
        spawnVariables: mode.spawn,
        template: mode.template,
      });
      for (const message of r.problems) issues.push({ path, message });
      return r.value;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (isRecord(v))
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    return v;
  };
  return { data: walk(data, []), home, issues };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
