/**
 * @module topology/render
 * Spawn-time rendering of the per-replica placeholders a compiled topology keeps in its commands,
 * env, probes and hooks: `${port}`, `${replica}`, `${edition}` (and `${home}`, `${node}`), with
 * `$${` turned into a literal `${`.
 */
import type { CommandSpec } from "./types.js";

/**
 * Names referenced as `${name}` in a template (escaped `$${` excluded), e.g. to decide whether a
 * component needs a port.
 * @example templateVariables("node app.js --port ${port}") // Set { "port" }
 */
export function templateVariables(s: string): Set<string> {
  const names = new Set<string>();
  const re = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)/g;
  for (const m of s.matchAll(re)) if (m[1] !== undefined) names.add(m[1]);
  return names;
}

/** Values for {@link renderTemplate}. */
export interface TemplateVars {
  /** The replica's allocated port; required when the template mentions `${port}`. */
  port?: number;
  /** Replica index, from 0. */
  replica: number;
  /** Absolute path of the home. */
  home: string;
  /** This node's name. @default os.hostname() at load time */
  node?: string;
  /** Directory of the edition the replica runs from; required when the template mentions `${edition}`. */
  edition?: string;
  /** A `reseed` command's peer (cluster/reseed): its node's advertised address, its port, its node. */
  peer?: string;
  peerPort?: number;
  peerNode?: string;
}

/** Each template name → its field in {@link TemplateVars}. */
const TEMPLATE_VARS: Readonly<Record<string, keyof TemplateVars>> = {
  port: "port",
  replica: "replica",
  edition: "edition",
  home: "home",
  node: "node",
  peer: "peer",
  peer_port: "peerPort",
  peer_node: "peerNode",
};

/**
 * Renders the spawn-time placeholders of a template and turns `$${` into `${`. Other `${...}` are
 * left as written (they were resolved at load time).
 * @throws Error when the template mentions `${port}` or `${edition}` and no value was given.
 * @example renderTemplate("--port ${port} --id ${replica}", { port: 4100, replica: 1, home }) // "--port 4100 --id 1"
 */
export function renderTemplate(s: string, vars: TemplateVars): string {
  return s.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string | undefined) => {
    if (name === undefined) return "${";
    const field = Object.hasOwn(TEMPLATE_VARS, name) ? TEMPLATE_VARS[name] : undefined;
    if (field === undefined) return whole;
    const v = vars[field];
    if (v === undefined) throw new Error(`cannot render \`${s}\`: no value for \`\${${name}}\``);
    return String(v);
  });
}

/**
 * Renders a command (each argv element separately).
 * @example renderCommand(["node", "app.js", "--port", "${port}"], { port: 4100, replica: 0, home })
 */
export function renderCommand(command: CommandSpec, vars: TemplateVars): CommandSpec {
  return typeof command === "string"
    ? renderTemplate(command, vars)
    : command.map((a) => renderTemplate(a, vars));
}

/**
 * Renders every value of an environment record.
 * @example renderEnv({ PORT: "${port}" }, { port: 4100, replica: 0, home }) // { PORT: "4100" }
 */
export function renderEnv(env: Record<string, string>, vars: TemplateVars): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, renderTemplate(v, vars)]));
}
