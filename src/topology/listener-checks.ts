/**
 * @module topology/listener-checks
 * Routes sharing a listen address and port share one listener, and so its limits
 * (`max_connections`, `max_connections_per_client`, `head_timeout`): two routes of one listener that
 * set one of them to different values are an error, naming both.
 */
import type { PathIssue } from "./locate.js";
import { parseListen } from "./schema.js";

const LISTENER_KEYS = ["max_connections", "max_connections_per_client", "head_timeout"] as const;

/** Conflicting listener limits among `routes` (raw, interpolated data). */
export function listenerLimitChecks(routes: unknown[]): PathIssue[] {
  const issues: PathIssue[] = [];
  /** `address|port|key` → the first route setting it, and its value. */
  const first = new Map<string, { index: number; value: unknown }>();
  routes.forEach((r, i) => {
    if (r === null || typeof r !== "object" || Array.isArray(r)) return;
    const route = r as Record<string, unknown>;
    const listen = parseListen(route.listen);
    if (!("value" in listen)) return;
    const where = `${listen.value.address ?? "0.0.0.0"}:${listen.value.port}`;
    for (const key of LISTENER_KEYS) {
      const value = route[key];
      if (value === undefined) continue;
      const seen = first.get(`${where}|${key}`);
      if (seen === undefined) first.set(`${where}|${key}`, { index: i, value });
      else if (String(seen.value) !== String(value))
        issues.push({
          path: ["routes", i, key],
          message: `\`${key}\` is ${JSON.stringify(value)}, but routes[${seen.index}] on the same listener (${where}) sets ${JSON.stringify(seen.value)}; routes sharing a port share its limits: set it once, or to the same value`,
        });
    }
  });
  return issues;
}
