/**
 * @module lifecycle/replica-context
 * Where and how one replica runs, worked out from its component, its slot and its record: the
 * values its commands are rendered with (`${port}`, `${replica}`, `${home}`, `${edition}`), its
 * working directory (inside its edition with `patching`), its environment (with the marker that
 * finds orphans), the port it serves on, the edition a re-adopted process runs from, and the
 * record of a slot never started.
 */
import { join, sep } from "node:path";
import { markerEnv, readCwd } from "../process/index.js";
import type { ReplicaRecord } from "../store/records.js";
import type { CompiledComponent } from "../topology/types.js";
import { renderEnv, renderProbe, type ReplicaVars } from "./render.js";

/** What the context of one replica is made of at a given moment. */
export interface ReplicaPlace {
  spec: CompiledComponent;
  index: number;
  home: string;
  /** Its allocated `${port}`, if any. */
  port: number | null;
  /** With `patching`: the edition directory it runs from. */
  edition: string | undefined;
}

export function replicaVars(p: ReplicaPlace): ReplicaVars {
  return { replica: p.index, home: p.home, port: p.port ?? undefined, edition: p.edition };
}

/** The working directory: inside its edition with `patching`, else the compiled `cwd`. */
export function replicaCwd(p: ReplicaPlace): string {
  const { editionCwd, cwd } = p.spec;
  return editionCwd !== undefined && p.edition !== undefined ? join(p.edition, editionCwd) : cwd;
}

/** The daemon's environment, the component's `env`, and the marker that finds orphans (process/orphans). */
export function replicaEnv(p: ReplicaPlace, vars: ReplicaVars): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...renderEnv(p.spec.env, vars),
    ...markerEnv(p.home, p.spec.name, p.index),
  };
}

/**
 * The port the replica serves on: its `${port}`, else the one its `tcp` or `http` readiness probe
 * names (a component listening on a fixed port). Undefined when neither says.
 */
export function servingPort(p: ReplicaPlace): number | undefined {
  if (p.port !== null) return p.port;
  const ready = p.spec.ready;
  if (!ready || (ready.kind !== "tcp" && ready.kind !== "http")) return undefined;
  try {
    const probe = renderProbe(ready, replicaVars(p));
    const port = probe.kind === "tcp" ? Number(probe.port) : Number(new URL(probe.url).port || 80);
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** The edition a re-adopted process runs from, read off its working directory. */
export function editionOf(spec: CompiledComponent, pid: number): string | undefined {
  const { editionCwd } = spec;
  const cwd = editionCwd === undefined ? undefined : readCwd(pid);
  if (cwd === undefined || editionCwd === undefined) return undefined;
  if (editionCwd === ".") return cwd;
  return cwd.endsWith(sep + editionCwd) ? cwd.slice(0, -(editionCwd.length + 1)) : undefined;
}

/** The record of a replica never started in its slot: `stopped`, no process, no port. */
export function initialRecord(component: string, index: number): ReplicaRecord {
  return {
    component,
    index,
    state: "stopped",
    pid: null,
    pgid: null,
    startTime: null,
    port: null,
    restarts: 0,
    lastExit: null,
    invalidated: false,
    reason: null,
    updatedAt: Date.now(),
  };
}
