/**
 * @module cli/cluster-flag
 * `--cluster` on `start`, `stop` and `restart`: an operation over every node of a cluster (design
 * §7, cli/cluster-operation). Without a `cluster:` section there is no cluster to act on: refused
 * before anything is asked of the daemon (exit 2), so it never acts on one node alone in silence.
 */
import { BadRequestError } from "../errors.js";
import { displayPath } from "../topology/load.js";
import type { CompiledTopology } from "../topology/types.js";

/** Refuses `steward <op> --cluster` for a topology without `cluster:`. Nothing has been done. */
export function refuseClusterFlag(op: string, t: Pick<CompiledTopology, "file">): never {
  const file = displayPath(t.file);
  throw new BadRequestError(
    `\`${op} --cluster\` acts on every node of a cluster, and ${file} has no \`cluster:\` section: ` +
      `run \`steward ${op}\` without --cluster, or add \`cluster:\` (with a PostgreSQL \`store\`)`,
    { option: "--cluster", file: t.file },
  );
}
