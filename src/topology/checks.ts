/**
 * @module topology/checks
 * Checks that span keys, run on the interpolated data whether or not the schema passed, so that
 * every problem is reported at once: names, `depends_on` and route targets that point at nothing,
 * `min_available` above `replicas`, duplicate routes, `cluster` without a PostgreSQL store, `reseed`
 * without a `cluster`, `patching.exclude`
 * patterns written as absolute paths inside `patching.root`, a `control` listener in clear text off
 * loopback.
 */
import { excludeRootChecks } from "./exclude-pattern.js";
import type { PathIssue } from "./locate.js";
import { placementChecks } from "./placement-checks.js";
import { listenerLimitChecks } from "./listener-checks.js";
import { controlChecks } from "./control.js";
import { parseListen } from "./schema.js";
import { didYouMeanSuffix } from "./suggest.js";

/** Component and job names: a letter, then letters, digits, `_` and `-` (they name log files and codes). */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);
const entries = (v: unknown): [string, unknown][] => (isRecord(v) ? Object.entries(v) : []);
const whole = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : undefined;

/** Every cross-reference problem of the topology `data`. */
export function crossChecks(data: unknown): PathIssue[] {
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const components = entries(data.components);
  const names = components.map(([n]) => n);
  const jobNames = new Set(entries(data.jobs).map(([n]) => n));

  for (const [section, list] of [
    ["components", components],
    ["jobs", entries(data.jobs)],
  ] as const) {
    for (const [name] of list) {
      if (!NAME_PATTERN.test(name)) {
        issues.push({
          path: [section, name],
          at: "key",
          message: `invalid name \`${name}\`: use a letter, then letters, digits, \`_\` or \`-\``,
        });
      }
    }
  }
  for (const [name] of components) {
    if (jobNames.has(name)) {
      issues.push({
        path: ["jobs", name],
        at: "key",
        message: `\`${name}\` is already the name of a component`,
      });
    }
  }

  for (const [name, c] of components) {
    if (!isRecord(c)) continue;
    issues.push(...dependencyChecks(name, c.depends_on, names));
    // With `placement.nodes: any`, `placement.replicas` is the count (the placement checks say which).
    const placement = isRecord(c.placement) ? c.placement : {};
    const replicas = whole(c.replicas) ?? whole(placement.replicas) ?? 1;
    const minAvailable = whole(c.min_available);
    if (minAvailable !== undefined && minAvailable > replicas) {
      issues.push({
        path: ["components", name, "min_available"],
        message: `\`min_available\` (${minAvailable}) is more than \`replicas\` (${replicas})`,
      });
    }
  }

  for (const [name, c] of components) {
    if (isRecord(c) && c.reseed !== undefined && data.cluster === undefined)
      issues.push({
        path: ["components", name, "reseed"],
        at: "key",
        message:
          "`reseed` copies a node's data from a peer node after a long outage, and this topology has no `cluster:` section, so it would never run: add `cluster:` (with a PostgreSQL `store`) or remove `reseed`",
      });
    else if (isRecord(c) && c.reseed !== undefined && onOneNode(c))
      issues.push({
        path: ["components", name, "reseed"],
        at: "key",
        message: `\`reseed\` copies this component's data from a ready replica on another node, and ${onOneNode(c)}, so there is never such a peer and its start would wait for ever: remove \`reseed\`, or run the component on more than one node`,
      });
  }

  if (Array.isArray(data.routes)) issues.push(...routeChecks(data.routes, names, jobNames));
  if (Array.isArray(data.routes)) issues.push(...listenerLimitChecks(data.routes));
  issues.push(...placementChecks(data));
  issues.push(...excludeRootChecks(data.patching));
  issues.push(...controlChecks(data.control));

  if (data.cluster !== undefined && (typeof data.store !== "string" || !data.store.startsWith("postgres"))) {
    issues.push({
      path: ["cluster"],
      at: "key",
      message: "a cluster shares one PostgreSQL store: set `store: postgres://user@host:5432/db`",
    });
  }
  return issues;
}

function dependencyChecks(name: string, dependsOn: unknown, names: string[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const refs: { target: string; path: PropertyKey[]; at: "key" | "value" }[] = [];
  const base = ["components", name, "depends_on"];
  if (Array.isArray(dependsOn)) {
    dependsOn.forEach((t, i) => {
      if (typeof t === "string") refs.push({ target: t, path: [...base, i], at: "value" });
    });
  } else {
    for (const [t] of entries(dependsOn)) refs.push({ target: t, path: [...base, t], at: "key" });
  }
  for (const ref of refs) {
    if (ref.target === name) {
      issues.push({ path: ref.path, at: ref.at, message: `\`${name}\` cannot depend on itself` });
    } else if (!names.includes(ref.target)) {
      const hint = didYouMeanSuffix(ref.target, names);
      issues.push({
        path: ref.path,
        at: ref.at,
        message: `depends on \`${ref.target}\`, which is not a component${hint}`,
      });
    }
  }
  return issues;
}

const WILDCARDS = new Set(["0.0.0.0", "::"]);

function routeChecks(routes: unknown[], names: string[], jobNames: Set<string>): PathIssue[] {
  const issues: PathIssue[] = [];
  const seen = new Map<string, number>();
  /** Per port: the first route's address and index. */
  const bound = new Map<number, { address: string; index: number }>();
  routes.forEach((r, i) => {
    if (!isRecord(r)) return;
    if (typeof r.to === "string" && !names.includes(r.to)) {
      const why = jobNames.has(r.to)
        ? "; it is a job, and routes go to components"
        : didYouMeanSuffix(r.to, names);
      issues.push({
        path: ["routes", i, "to"],
        message: `routes to \`${r.to}\`, which is not a component${why}`,
      });
    }
    const listen = parseListen(r.listen);
    if ("value" in listen) {
      const address = listen.value.address ?? "0.0.0.0";
      const first = bound.get(listen.value.port);
      if (!first) {
        bound.set(listen.value.port, { address, index: i });
      } else if (first.address !== address && (WILDCARDS.has(address) || WILDCARDS.has(first.address))) {
        issues.push({
          path: ["routes", i, "listen"],
          message: `listens on ${address}:${listen.value.port}, but routes[${first.index}] binds ${first.address}:${listen.value.port}; routes sharing a port bind the same address (or only specific, different ones)`,
        });
      }
    }
    const where =
      "value" in listen ? `${listen.value.address ?? "0.0.0.0"}:${listen.value.port}` : String(r.listen);
    const host = typeof r.host === "string" ? r.host.toLowerCase() : "*";
    const key = `${where} ${host} ${typeof r.path === "string" ? r.path : "/"}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        path: ["routes", i],
        message: `same \`listen\`, \`host\` and \`path\` as routes[${first}]`,
      });
    } else {
      seen.set(key, i);
    }
  });
  return issues;
}

/** Why a component never runs on two nodes at once (so it has no peer to reseed from); undefined when it may. */
function onOneNode(c: Record<string, unknown>): string | undefined {
  const placement = isRecord(c.placement) ? c.placement : undefined;
  if (!placement) return undefined;
  if (Array.isArray(placement.nodes) && placement.nodes.length === 1)
    return `it runs on node \`${String(placement.nodes[0])}\` only`;
  const count = whole(placement.replicas) ?? whole(c.replicas) ?? 1;
  if (placement.nodes === "any" && count === 1)
    return "it is a cluster singleton (`replicas: 1, nodes: any`: one node at a time)";
  return undefined;
}
