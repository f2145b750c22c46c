/**
 * @module cluster/operation-types
 * A **cluster operation** (`steward start|stop|restart --cluster`): one operation in the shared
 * journal with one **step** per node, driven by the primary (cluster/operations-sql).
 */

export type ClusterOperationKind = "start" | "stop" | "restart" | "patch";

/** What a `patch` operation runs on every node (cluster/patch-sql): a phase, its options, and how a cutover goes. */
export interface PatchOperationArgs {
  phase: string;
  /** The phase's options, as `POST /v1/patch/<phase>` takes them; `apply`'s patches as store blobs. */
  body: Record<string, unknown>;
  /** A cutover: `rolling` (node by node, past the rolling gate) or `together`. */
  strategy?: "rolling" | "together";
  /** Whether a node that fails or goes down may be abandoned (cluster/abandon). @default true */
  abandon?: boolean;
}

/**
 * `waiting` for the primary to release it; `released` for its node to run; `running` on its node
 * (under a daemon session); `done` / `failed` with the local operation's outcome; `skipped` when
 * its node was down (at the start, or when its turn came); `abandoned` (patch operations) when the
 * primary went on without its node (cluster/abandon), which then catches up by itself.
 */
export type StepState = "waiting" | "released" | "running" | "done" | "failed" | "skipped" | "abandoned";

export interface ClusterStepView {
  node: string;
  state: StepState;
  /** What the node's local operation did, or why the step was skipped. */
  outcome: string | null;
  /** Times a daemon of the node began it (2+: an earlier daemon died while running it). */
  runs: number;
}

export interface ClusterOperationView {
  id: string;
  kind: ClusterOperationKind;
  /** A `patch` operation's phase and options. */
  args: PatchOperationArgs | null;
  /** The components named ([] = all). */
  components: string[];
  /** `requested` until the primary takes it; `done` or `failed` once every step has ended. */
  state: "requested" | "running" | "done" | "failed";
  /** The primary that took it, and its epoch then. */
  driver: string | null;
  epoch: number | null;
  steps: ClusterStepView[];
}

/** One line of `POST /v1/cluster/operations`' NDJSON answer. */
export type ClusterOperationLine =
  | { type: "cluster-operation"; operation: ClusterOperationView }
  | { type: "cluster-step"; id: string; kind: ClusterOperationKind; step: ClusterStepView }
  | { type: "cluster-result"; operation: ClusterOperationView }
  | { type: "warning"; message: string }
  | { type: "error"; error: { code: string; message: string } };
