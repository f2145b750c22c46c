/**
 * @module cli/cluster-flag
 * `--cluster` on `start`, `stop` and `restart`: an operation over every node of a cluster (design
 * §7). Until cluster operations exist it is refused before anything is asked of the daemon, so
 * that it never acts on one node alone in silence: exit 2 either way.
 */
import { BadRequestError } from "../errors.js";
import { displayPath } from "../topology/load.js";
import type { CompiledTopology } from "../topology/types.js";

/**
 * Refuses `steward <op> --cluster`: without a `cluster:` section there is no cluster to act on;
 * with one, cluster operations are not available yet. Nothing has been done either way.
 */
export function refuseClusterFlag(op: string, t: Pick<CompiledTopology, "file" | "cluster">): never {
  const file = displayPath(t.file);
  if (t.cluster === undefined)
    throw new BadRequestError(
      `\`${op} --cluster\` acts on every node of a cluster, and ${file} has no \`cluster:\` section: ` +
        `run \`steward ${op}\` without --cluster, or add \`cluster:\` (with a PostgreSQL \`store\`)`,
      { option: "--cluster", file: t.file },
    );
  throw new BadRequestError(
    `\`${op} --cluster\`: operations over the whole cluster are not available yet; nothing was done. ` +
      `Run \`steward ${op}\` on each node to act on that node's replicas`,
    { option: "--cluster", file: t.file, available: false },
  );
}
