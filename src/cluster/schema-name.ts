/**
 * @module cluster/schema-name
 * Where a **node** keeps its own state records in the shared PostgreSQL store: the schema
 * `steward_node_<name>`, so that every store statement stays unchanged and two nodes never write
 * each other's rows. The name is readable and collision-free: when the node name had to be
 * changed to fit (upper case, `.` or `-`, length), a short digest of the original is appended, so
 * `N1` and `n1`, or `a.b` and `a_b`, get different schemas.
 */
import { createHash } from "node:crypto";

/** The shared tables of the cluster (nodes, primary lease). */
export const CLUSTER_SCHEMA = "steward_cluster";

const PREFIX = "steward_node_";
/** PostgreSQL truncates identifiers at 63 bytes. */
const MAX_IDENTIFIER = 63;

/**
 * @example nodeSchemaName("n1") // "steward_node_n1"
 * @example nodeSchemaName("web-1.example") // "steward_node_web_1_example_3f2a9c"
 */
export function nodeSchemaName(node: string): string {
  const plain = node.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (plain === node && PREFIX.length + plain.length <= MAX_IDENTIFIER) return PREFIX + plain;
  const digest = createHash("sha256").update(node).digest("hex").slice(0, 6);
  return `${PREFIX}${plain.slice(0, MAX_IDENTIFIER - PREFIX.length - 7)}_${digest}`;
}
