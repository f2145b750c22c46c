/**
 * @module lifecycle/render
 * Renders the per-replica placeholders (`${port}`, `${replica}`, `${home}`) left in a compiled
 * component's command, env and probes at spawn time.
 */
import { renderTemplate } from "../topology/interpolate.js";
import type { CommandSpec, ProbeSpec } from "../topology/types.js";

export interface ReplicaVars {
  replica: number;
  home: string;
  port?: number | undefined;
}

export function renderCommand(command: CommandSpec, vars: ReplicaVars): CommandSpec {
  return typeof command === "string" ? renderTemplate(command, vars) : command.map((a) => renderTemplate(a, vars));
}

export function renderEnv(env: Record<string, string>, vars: ReplicaVars): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, renderTemplate(v, vars)]));
}

export function renderProbe<P extends ProbeSpec>(probe: P, vars: ReplicaVars): P {
  switch (probe.kind) {
    case "tcp":
      return { ...probe, port: renderTemplate(probe.port, vars) };
    case "http":
      return { ...probe, url: renderTemplate(probe.url, vars) };
    case "exec":
      return { ...probe, command: renderCommand(probe.command, vars) };
    case "log":
      return probe;
  }
}
