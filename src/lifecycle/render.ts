/**
 * @module lifecycle/render
 * Renders the per-replica placeholders (`${port}`, `${replica}`, `${home}`) left in a compiled
 * component's probes at spawn time; commands and env use the topology's own renderers.
 */
import { renderCommand, renderTemplate, type TemplateVars } from "../topology/render.js";
import type { ProbeSpec } from "../topology/types.js";

export { renderCommand, renderEnv } from "../topology/render.js";
export type ReplicaVars = TemplateVars;

export function renderProbe<P extends ProbeSpec>(probe: P, vars: ReplicaVars): P {
  switch (probe.kind) {
    case "tcp":
      return { ...probe, host: renderTemplate(probe.host, vars), port: renderTemplate(probe.port, vars) };
    case "http":
      return { ...probe, url: renderTemplate(probe.url, vars) };
    case "exec":
      return { ...probe, command: renderCommand(probe.command, vars) };
    case "log":
      return { ...probe, pattern: renderTemplate(probe.pattern, vars) };
  }
}
