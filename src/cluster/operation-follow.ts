/**
 * @module cluster/operation-follow
 * The asking node follows its cluster operation for the CLI: a line when the primary takes it, a
 * line each time a step changes state, the final view once it has ended. It reads the journal on
 * each notification or pass (at least every heartbeat), so it follows across primary failovers.
 * The store being away only delays the lines.
 */
import type { ClusterOperations } from "./operation-engine.js";
import type { ClusterOperationLine, ClusterOperationView } from "./operation-types.js";

export async function followOperation(
  engine: ClusterOperations,
  id: string,
  pollMs: number,
  send: (line: ClusterOperationLine) => void,
): Promise<ClusterOperationView> {
  const seen = new Map<string, string>();
  let driver: string | null = null;
  let away = false;
  for (;;) {
    let op: ClusterOperationView | undefined;
    try {
      op = await engine.read(id);
      away = false;
    } catch (err) {
      if (!away)
        send({
          type: "warning",
          message: `the store did not answer (${(err as Error).message}); still following`,
        });
      away = true;
    }
    if (op) {
      if (op.driver !== null && op.driver !== driver) {
        driver = op.driver;
        send({ type: "cluster-operation", operation: op });
      }
      for (const step of op.steps) {
        const key = `${step.state} ${step.runs} ${step.outcome ?? ""}`; // a waiting step's reason may change
        if (seen.get(step.node) === key) continue;
        seen.set(step.node, key);
        send({ type: "cluster-step", id, kind: op.kind, step });
      }
      if (op.state === "done" || op.state === "failed") return op;
    }
    await engine.changed(pollMs);
  }
}
