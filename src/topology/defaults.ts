/**
 * @module topology/defaults
 * The built-in defaults of a topology (design §11), in compiled units (ms, bytes). Applied once,
 * by `compileTopology()`; nothing downstream re-applies them.
 */
import type { CompiledRoute, DrainSpec, LogSpec, RestartSpec, RouteHold, StopSpec } from "./types.js";

/** Built-in defaults (design §11). */
export const DEFAULTS = {
  stop: { signal: "SIGTERM", graceMs: 30_000 } satisfies StopSpec,
  drain: { timeoutMs: 30_000 } satisfies DrainSpec,
  ready: { withinMs: 60_000, intervalMs: 200, timeoutMs: 1_000 },
  health: { intervalMs: 1_000, timeoutMs: 1_000, fall: 2, rise: 2 },
  restart: {
    policy: "on-failure",
    backoffInitialMs: 100,
    backoffMaxMs: 30_000,
    limitCount: 5,
    limitWindowMs: 60_000,
  } satisfies RestartSpec,
  logs: { maxBytes: 10 * 1024 * 1024, keep: 5 } satisfies LogSpec,
  hold: { timeoutMs: 10_000, maxQueued: 1_000 } satisfies RouteHold,
  route: { address: "0.0.0.0", maxBodyBytes: 10 * 1024 * 1024, timeoutMs: 60_000 },
  /** docs/edge.md "Limits": why these values. */
  edge: { maxConnections: 10_000, maxConnectionsPerClient: 256, headTimeoutMs: 10_000, reservedFds: 256 },
  /** `reseed`: the manual's "long outage" of one hour; a copy may take a while. */
  reseed: { afterMs: 3_600_000, timeoutMs: 1_800_000 },
  replicas: 1,
  minAvailable: 1,
  home: ".steward",
} as const;

export type { RouteHold };

/** @deprecated `CompiledRoute` has the `hold` field now; kept for existing imports. */
export type CompiledRouteWithHold = CompiledRoute;

/** The default offline code of a component: `engine-v2` → `ENGINE_V2_OFFLINE`. */
export function defaultOfflineCode(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_OFFLINE`;
}
