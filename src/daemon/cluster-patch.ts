/**
 * @module daemon/cluster-patch
 * Asking the cluster for a patch phase (`steward patch <phase>` on a cluster node): refusals first,
 * with nothing asked — patching not configured here, a node whose topology differs from the
 * primary's (drift: the phase would do different things on different nodes), a rolling cutover
 * that could not keep a `min_available` — then `apply`'s patches stored for every node
 * (cluster/patch-blobs) and the operation asked and followed. Each node's part: daemon/patch-step.
 */
import { join } from "node:path";
import type pg from "pg";
import type { ClusterPatchApi } from "../api/cluster-patch.js";
import type { Membership } from "../cluster/membership.js";
import type { ClusterOperations } from "../cluster/operation-engine.js";
import type {
  ClusterOperationLine,
  ClusterOperationView,
  PatchOperationArgs,
} from "../cluster/operation-types.js";
import { readNodePatchStates, type NodePatchState } from "../cluster/patch-status.js";
import { storePatchBlob, type PatchBlobRef } from "../cluster/patch-blobs.js";
import { PatchDriftError, PatchPhaseRefusedError, RollingRefusedError } from "../cluster/errors.js";
import { LATEST_PATCH_OPERATION } from "../cluster/patch-sql.js";
import { PatchingNotConfiguredError } from "../patching/errors.js";
import type { DaemonPatching } from "./patch-wiring.js";

export interface ClusterPatchParts {
  membership: Membership;
  operations: ClusterOperations;
  blobs: pg.Pool;
  patching: DaemonPatching | undefined;
  topologyFile: string;
}

export class ClusterPatchControl implements ClusterPatchApi {
  readonly #p: ClusterPatchParts;

  constructor(parts: ClusterPatchParts) {
    this.#p = parts;
  }

  async check(args: PatchOperationArgs): Promise<void> {
    const { membership: m, operations, patching, topologyFile } = this.#p;
    if (!patching) throw new PatchingNotConfiguredError(topologyFile);
    const nodes = m.nodes.filter((n) => n.state !== "left");
    const primary = nodes.find((n) => n.name === m.status().leaseHolder);
    if (primary) {
      const drifted = nodes
        .filter((n) => n.state !== "down" && n.digest !== primary.digest)
        .map((n) => n.name);
      if (drifted.length > 0) throw new PatchDriftError(args.phase, drifted, primary.name);
    }
    await this.#checkOrder(args.phase);
    const refusal = await operations.refusal("patch", [], args);
    if (refusal) throw new RollingRefusedError(`patch cutover`, refusal.node, refusal.reason);
  }

  /**
   * Each phase completes on every node before the next may start: refused while a patch phase
   * runs, and after one that ended `done` on some nodes only — except that phase again (nodes that
   * finished it are not run twice) and `abort`.
   */
  async #checkOrder(phase: string): Promise<void> {
    const last = (
      await this.#p.blobs.query<{
        id: string;
        state: string;
        phase: string;
        steps: { node: string; state: string; outcome: string | null }[];
      }>(LATEST_PATCH_OPERATION)
    ).rows[0];
    if (!last) return;
    if (last.state === "requested" || last.state === "running")
      throw new PatchPhaseRefusedError(
        phase,
        `patch ${last.phase} is still running on the cluster (operation ${last.id}); wait for it — \`steward patch status\` shows each node`,
      );
    // Done on some nodes and not on others: the nodes disagree until it is done everywhere. (Failed
    // everywhere changed nothing anywhere: each node's own phase order decides.)
    const behind = last.steps.filter((s) => s.state !== "done" && s.state !== "abandoned");
    if (behind.length === 0 || behind.length === last.steps.length) return;
    if (phase === last.phase || phase === "abort") return;
    const which = behind.map((s) => `${s.node}: ${s.state}${s.outcome ? ` (${s.outcome})` : ""}`).join("; ");
    throw new PatchPhaseRefusedError(
      phase,
      `patch ${last.phase} did not complete on every node — ${which}; run \`steward patch ${last.phase}\` again (nodes that finished it are not run twice) or \`steward patch abort\``,
    );
  }

  async nodes(): Promise<NodePatchState[]> {
    const nodes = this.#p.membership.nodes.filter((n) => n.state !== "left");
    return readNodePatchStates(this.#p.blobs, nodes);
  }

  async operate(
    args: PatchOperationArgs,
    send: (line: ClusterOperationLine) => void,
  ): Promise<ClusterOperationView> {
    let asked = args;
    if (args.phase === "apply") {
      const { patches, ...rest } = args.body;
      const tmp = join(this.#p.patching!.layout.paths.tmp, "cluster-upload");
      const blobs: PatchBlobRef[] = [];
      for (const source of (patches as string[] | undefined) ?? []) {
        const ref = await storePatchBlob(this.#p.blobs, source, this.#p.membership.node, tmp);
        send({
          type: "warning",
          message: `patch ${ref.name} stored for every node: sha256 ${ref.sha256.slice(0, 12)}…, ${ref.size} bytes`,
        });
        blobs.push(ref);
      }
      asked = { ...args, body: { ...rest, blobs } };
    }
    return this.#p.operations.operate("patch", [], send, asked);
  }
}
