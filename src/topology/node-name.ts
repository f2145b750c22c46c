/**
 * @module topology/node-name
 * The name of a **node** in a cluster (`cluster.node`, `--node`, `STEWARD_NODE`; default: the
 * hostname) and how it is checked. The same rule holds wherever a node is named (`placement.nodes`
 * too): 1–63 letters, digits, `.`, `_` or `-`, starting with a letter or digit — a hostname fits.
 */
import { hostname } from "node:os";
import type { PathIssue } from "./locate.js";
import { describeValue, leaf } from "./values.js";

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Why `name` is not a valid node name, or undefined when it is. */
export function nodeNameProblem(name: unknown): string | undefined {
  if (typeof name === "string" && NODE_NAME.test(name)) return undefined;
  return (
    "expected a node name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit; " +
    `got ${describeValue(name)}`
  );
}

/** A node name in the topology file. */
export const nodeName = leaf<string>((v) => {
  const problem = nodeNameProblem(v);
  return problem === undefined ? { value: v as string } : { problem };
});

/**
 * This node's name, by precedence: `STEWARD_NODE` (which `steward up --node NAME` sets), then
 * `cluster.node` as written (without `${...}`: it names the node `${node}` stands for), then the
 * hostname. Checked by the caller (`cluster.node` by the schema; the others at boot).
 *
 * @example resolveNodeName({ STEWARD_NODE: "n2" }, { cluster: { node: "n1" } }) // "n2"
 */
export function resolveNodeName(env: NodeJS.ProcessEnv, data: unknown): string {
  const fromEnv = env.STEWARD_NODE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const cluster = isRecord(data) ? data.cluster : undefined;
  const written = isRecord(cluster) ? cluster.node : undefined;
  if (typeof written === "string" && written !== "" && !written.includes("${")) return written;
  return hostname();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * In a cluster, the resolved name must be valid too: `STEWARD_NODE` and the hostname are not
 * checked by the schema. A `cluster.node` that is itself invalid is the schema's to report.
 */
export function nodeChecks(data: unknown, node: string, env: NodeJS.ProcessEnv): PathIssue[] {
  const cluster = isRecord(data) ? data.cluster : undefined;
  if (!isRecord(cluster)) return [];
  if (typeof cluster.node === "string" && cluster.node.includes("${"))
    return [
      { path: ["cluster", "node"], message: "`cluster.node` is taken as written: it cannot use `${...}`" },
    ];
  const problem = nodeNameProblem(node);
  if (problem === undefined) return [];
  const fromEnv = env.STEWARD_NODE !== undefined && env.STEWARD_NODE !== "";
  if (!fromEnv && typeof cluster.node === "string") return []; // the schema says it
  const from = fromEnv ? "`STEWARD_NODE` (or `--node`)" : "the hostname";
  return [
    {
      path: ["cluster"],
      message: `this node's name, from ${from}: ${problem}; set \`cluster.node\` or \`--node\``,
    },
  ];
}
