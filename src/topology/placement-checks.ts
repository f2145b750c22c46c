/**
 * @module topology/placement-checks
 * The rules of `placement` that span keys (design §7), on the interpolated data: a placement needs
 * a `cluster:`; each count is written where it applies (the component's `replicas` per node for
 * `nodes: all` and a list, `placement.replicas` over the cluster for `nodes: any`); listed nodes
 * are declared in `cluster.nodes` when it is there. And one warning: `nodes: any` that the declared
 * nodes cannot hold.
 */
import type { PathIssue } from "./locate.js";
import { nodeNameProblem } from "./node-name.js";
import { didYouMeanSuffix } from "./suggest.js";

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === "object" && !Array.isArray(v);
const whole = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : undefined;

/** The components that have a `placement`, with it. */
function placed(data: Rec): [name: string, component: Rec, placement: unknown][] {
  if (!isRecord(data.components)) return [];
  return Object.entries(data.components).flatMap(([name, c]) =>
    isRecord(c) && c.placement !== undefined ? [[name, c, c.placement] as [string, Rec, unknown]] : [],
  );
}

/** `cluster.nodes` when it is a list: the valid names declared, once each (the schema reports the rest). */
function declaredNodes(data: Rec): string[] | undefined {
  const nodes = isRecord(data.cluster) ? data.cluster.nodes : undefined;
  if (!Array.isArray(nodes)) return undefined;
  return [...new Set(nodes.filter((n): n is string => nodeNameProblem(n) === undefined))];
}

/** A list's names that repeat an earlier one, and an empty list. */
function listChecks(list: unknown[], path: PropertyKey[], what: string): PathIssue[] {
  if (list.length === 0) return [{ path, message: `an empty list: ${what}` }];
  const issues: PathIssue[] = [];
  list.forEach((n, i) => {
    const first = list.indexOf(n);
    if (typeof n === "string" && first < i)
      issues.push({ path: [...path, i], message: `\`${n}\` is listed twice (also at [${first}])` });
  });
  return issues;
}

/** Every placement problem of the topology `data`. */
export function placementChecks(data: Rec): PathIssue[] {
  const issues: PathIssue[] = [];
  const declared = declaredNodes(data);
  const clusterNodes = isRecord(data.cluster) ? data.cluster.nodes : undefined;
  if (Array.isArray(clusterNodes))
    issues.push(
      ...listChecks(clusterNodes, ["cluster", "nodes"], "declare the nodes, or remove `cluster.nodes`"),
    );

  for (const [name, c, p] of placed(data)) {
    const base = ["components", name, "placement"];
    if (data.cluster === undefined) {
      issues.push({
        path: base,
        at: "key",
        message:
          "`placement` says on which nodes of a cluster the replicas run, and this topology has no `cluster:` section: add `cluster:` (with a PostgreSQL `store`) or remove `placement`",
      });
    }
    if (!isRecord(p)) continue;
    const nodes = p.nodes ?? "all";
    if (nodes === "any") {
      if (c.replicas !== undefined) {
        const also =
          p.replicas === undefined
            ? `write it as \`placement.replicas: ${String(c.replicas)}\``
            : `\`placement.replicas\` (${String(p.replicas)}) gives it: remove \`replicas\``;
        issues.push({
          path: ["components", name, "replicas"],
          at: "key",
          message: `\`replicas\` counts replicas per node, and with \`placement.nodes: any\` the count is over the cluster: ${also}`,
        });
      } else if (p.replicas === undefined) {
        issues.push({
          path: [...base, "nodes"],
          message:
            "`nodes: any` needs the number of replicas over the cluster: add `replicas: N` to `placement` (`replicas: 1` for a singleton, which never runs on two nodes at once)",
        });
      }
    } else if (nodes === "all" || Array.isArray(nodes)) {
      const form = nodes === "all" ? "`nodes: all`" : "a list of nodes";
      if (p.replicas !== undefined)
        issues.push({
          path: [...base, "replicas"],
          at: "key",
          message: `\`placement.replicas\` is the count over the cluster of \`nodes: any\`; with ${form} each node runs the component's \`replicas\`: write \`replicas: ${String(p.replicas)}\` beside \`placement\`, or use \`nodes: any\``,
        });
      if (p.max_per_node !== undefined)
        issues.push({
          path: [...base, "max_per_node"],
          at: "key",
          message: `\`max_per_node\` bounds \`nodes: any\`; with ${form} each node runs exactly \`replicas\`: remove it, or use \`nodes: any\``,
        });
    }
    if (Array.isArray(nodes)) {
      issues.push(...listChecks(nodes, [...base, "nodes"], "name at least one node, or use `nodes: all`"));
      if (declared)
        nodes.forEach((n, i) => {
          // An invalid name is the schema's to report.
          if (typeof n !== "string" || declared.includes(n) || nodeNameProblem(n) !== undefined) return;
          issues.push({
            path: [...base, "nodes", i],
            message: `\`${n}\` is not a node declared in \`cluster.nodes\` (${declared.join(", ")})${didYouMeanSuffix(n, declared)}`,
          });
        });
    }
  }
  return issues;
}

/**
 * What is valid but cannot be placed in full: `nodes: any` whose `max_per_node` × the nodes
 * declared in `cluster.nodes` is below its `replicas` (the rest are `under-placed`). Without `cluster.nodes` the nodes are known only at run time.
 */
export function placementWarnings(data: Rec): PathIssue[] {
  const declared = declaredNodes(data);
  if (!declared || declared.length === 0) return [];
  const count = declared.length;
  const warnings: PathIssue[] = [];
  for (const [name, , p] of placed(data)) {
    if (!isRecord(p) || p.nodes !== "any") continue;
    const replicas = whole(p.replicas);
    const max = whole(p.max_per_node);
    if (replicas === undefined || max === undefined || max * count >= replicas) continue;
    warnings.push({
      path: ["components", name, "placement", "max_per_node"],
      message: `\`max_per_node\` (${max}) × ${count} declared node${count === 1 ? "" : "s"} = ${max * count}, fewer than \`replicas\` (${replicas}): ${replicas - max * count} replica${replicas - max * count === 1 ? "" : "s"} cannot be placed (status: \`under-placed\`); raise \`max_per_node\` or declare more nodes`,
    });
  }
  return warnings;
}
