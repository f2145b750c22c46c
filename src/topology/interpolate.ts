/**
 * @module topology/interpolate
 * `${...}` in topology strings, in two passes.
 *
 * At load time, {@link interpolate} replaces `${NAME}` and `${NAME:-default}` with environment
 * variables (the default is used when the variable is unset or empty; it may itself contain
 * `${...}`) and the Steward values `${home}` and `${node}` (hostname). The per-replica values
 * `${port}`, `${replica}` and `${edition}` are left as written where they are allowed.
 *
 * At spawn time, `renderTemplate()` (./render.ts) replaces those per-replica values. `$${` is a literal `${`:
 * in template strings the escape survives loading and is removed by `renderTemplate()`, so that
 * what the shell sees is exactly `${`.
 */

/** Steward values rendered at spawn time: per replica, and the peer of a `reseed` (cluster/reseed). */
export const SPAWN_VARIABLES = ["port", "replica", "edition", "peer", "peer_port", "peer_node"] as const;
export type SpawnVariable = (typeof SPAWN_VARIABLES)[number];

/** Steward values interpolated at load time. */
export type LoadVariable = "home" | "node";

export interface InterpolateOptions {
  /** Environment variables. */
  env: NodeJS.ProcessEnv;
  /** Load-time Steward values; one that is absent (`home` inside `home:` itself) is an error. */
  values: Partial<Record<LoadVariable, string>>;
  /** Spawn-time variables allowed in this string; they are kept for `renderTemplate()`. */
  spawnVariables: readonly SpawnVariable[];
  /** The string is a template: keep `$${` and escape `${` in substituted values. */
  template: boolean;
}

export interface InterpolateResult {
  value: string;
  /** Human-readable problems; empty when the string is valid. */
  problems: string[];
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

const WHERE_ALLOWED: Record<SpawnVariable, string> = {
  port: "a component's command, env, ready, health, drain and recover",
  replica: "a component's command, env, ready, health, drain and recover",
  edition: "commands, env, probes, hooks and `patching`",
  peer: "a component's `reseed.command`",
  peer_port: "a component's `reseed.command`",
  peer_node: "a component's `reseed.command`",
};

/**
 * Interpolates environment variables and load-time Steward values into `s`, collecting every
 * problem (an unset variable without a default, bad syntax, a variable not allowed here).
 * @example interpolate("${DB:-db.local}:5432", opts).value // "db.local:5432" when DB is unset
 */
export function interpolate(s: string, opts: InterpolateOptions): InterpolateResult {
  const problems: string[] = [];
  const escape = (v: string): string => (opts.template ? v.replaceAll("${", () => "$${") : v);

  function resolve(
    name: string,
    fallback: string | undefined,
    fallbackProblems: string[],
    sink: string[],
  ): string {
    if ((SPAWN_VARIABLES as readonly string[]).includes(name)) {
      const v = name as SpawnVariable;
      if (!opts.spawnVariables.includes(v))
        sink.push(`\`\${${v}}\` is only available in ${WHERE_ALLOWED[v]}`);
      else if (fallback !== undefined) sink.push(`\`\${${v}}\` is always set and cannot have a default`);
      return `\${${v}}`;
    }
    if (name === "home" || name === "node") {
      const v = opts.values[name];
      if (v === undefined) sink.push(`\`\${${name}}\` cannot be used here`);
      return escape(v ?? "");
    }
    const v = opts.env[name];
    if (v !== undefined && v !== "") return escape(v);
    if (fallback !== undefined) {
      sink.push(...fallbackProblems);
      return fallback;
    }
    if (v === "") return "";
    sink.push(
      `environment variable \`${name}\` is not set; set it or give a default: \`\${${name}:-value}\``,
    );
    return "";
  }

  /** Scans from `i` to the end, or (in a default) to the closing `}`. */
  function scan(i: number, sink: string[], inDefault: boolean): { out: string; end: number } {
    let out = "";
    while (i < s.length) {
      if (inDefault && s[i] === "}") return { out, end: i };
      if (s.startsWith("$${", i)) {
        out += opts.template ? "$${" : "${";
        i += 3;
      } else if (s.startsWith("${", i)) {
        const r = expression(i, sink);
        out += r.out;
        i = r.end;
      } else {
        out += s[i];
        i += 1;
      }
    }
    return { out, end: i };
  }

  function expression(i: number, sink: string[]): { out: string; end: number } {
    NAME.lastIndex = i + 2;
    const m = NAME.exec(s);
    if (!m) {
      sink.push("`${` must be followed by a variable name (write `$${` for a literal `${`)");
      return { out: "", end: i + 2 };
    }
    const name = m[0];
    const j = NAME.lastIndex;
    if (s[j] === "}") return { out: resolve(name, undefined, [], sink), end: j + 1 };
    if (s.startsWith(":-", j)) {
      const inner: string[] = [];
      const d = scan(j + 2, inner, true);
      if (d.end >= s.length) {
        sink.push(`\`\${${name}:-\` has no closing \`}\``);
        return { out: "", end: d.end };
      }
      return { out: resolve(name, d.out, inner, sink), end: d.end + 1 };
    }
    sink.push(
      j >= s.length
        ? `\`\${${name}\` has no closing \`}\``
        : `unexpected \`${s[j]}\` after \`\${${name}\`; write \`\${${name}}\` or \`\${${name}:-default}\``,
    );
    return { out: "", end: j };
  }

  const { out } = scan(0, problems, false);
  return { value: out, problems };
}

// Spawn-time rendering lives in ./render.ts; re-exported here for existing importers.
export { renderCommand, renderEnv, renderTemplate, templateVariables, type TemplateVars } from "./render.js";
