/**
 * @module cli/cluster-operation
 * `steward start|stop|restart [component...] --cluster`: the local daemon asks the cluster (the
 * primary takes the operation from the shared journal) and streams each node's step as it goes:
 * `n2: restart web … running`, `n2: restart web … done (1 component ready)`. Exit 0 only when every
 * node's step is done; a failed or skipped step (its node down) exits 1 and says why.
 */
import { resolve } from "node:path";
import { StewardError } from "../errors.js";
import { formatMs } from "../process/duration.js";
import type { ClusterOperationLine, ClusterOperationView } from "../cluster/operation-types.js";
import type { StreamLine } from "../api/app.js";
import { stream } from "./client.js";

export function clusterOperation(
  t: { home: string },
  kind: "start" | "stop" | "restart",
  components: string[],
  out: (line: string) => void,
): Promise<void> {
  const label = `${kind} ${components.join(" ") || "(all)"}`;
  return followCluster(t, "/v1/cluster/operations", { kind, components }, label, out);
}

/** Asks the local daemon at `path` and prints each node's step until the cluster operation ended. */
export async function followCluster(
  t: { home: string },
  path: string,
  body: Record<string, unknown>,
  label: string,
  out: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  let result: ClusterOperationView | undefined;
  let error: string | undefined;
  const onLine = (raw: StreamLine): void => {
    const line = raw as unknown as ClusterOperationLine;
    if (line.type === "cluster-operation")
      out(
        `cluster: ${label} taken by primary ${line.operation.driver} (epoch ${line.operation.epoch}), operation ${line.operation.id}`,
      );
    else if (line.type === "cluster-step") {
      const s = line.step;
      const again = s.runs > 1 && s.state === "running" ? " (again, after its daemon restarted)" : "";
      out(`${s.node}: ${label} … ${s.state}${again}${s.outcome ? ` (${s.outcome})` : ""}`);
    } else if (line.type === "warning") out(`! ${line.message}`);
    else if (line.type === "error") error = line.error.message;
    else if (line.type === "cluster-result") result = line.operation;
  };
  await stream(resolve(t.home, "steward.sock"), path, body, onLine);
  if (error !== undefined) throw new StewardError("STW-1009", error);
  if (!result)
    throw new StewardError("STW-1009", `${label} --cluster: the daemon closed the stream without a result`);
  const done = result.steps.filter((s) => s.state === "done").length;
  const abandoned = result.steps.filter((s) => s.state === "abandoned");
  const took = formatMs(Date.now() - started);
  // Abandoned nodes (a patch phase went on without them) catch up by themselves: not a failure.
  if (done > 0 && done + abandoned.length === result.steps.length) {
    for (const s of abandoned) out(`! ${s.node}: ${s.outcome ?? "abandoned"}`);
    const also = abandoned.length
      ? `; abandoned: ${abandoned.map((s) => s.node).join(", ")} (marked resync — see \`steward cluster status\`)`
      : "";
    out(`cluster: ${label} done on ${done} node${done === 1 ? "" : "s"} in ${took}${also}`);
    return;
  }
  for (const s of result.steps.filter((x) => x.state !== "done"))
    out(`✗ ${s.node}: ${s.state}: ${s.outcome ?? ""}`);
  out(
    `cluster: ${label} ${result.state === "failed" ? "failed" : "not done everywhere"} after ${took}: done on ${done} of ${result.steps.length} nodes — see \`steward cluster status\``,
  );
  process.exitCode = 1;
}
