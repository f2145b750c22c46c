/**
 * @module patching/validate-cluster
 * `patch validate`'s cluster checks: every node not `left` is `up` (the others named with their
 * state and heartbeat age), and every node on the primary's topology digest (drift as the
 * cluster view computes it).
 */
import { fail, ok, timed, type CheckRecord } from "./check-record.js";

/** A node as the cluster view has it (cluster/types NodeView; only what validate reads). */
export interface ValidateNode {
  name: string;
  state: string;
  heartbeatAgeMs: number;
  drift: boolean;
  topologyDigest: string;
}

const age = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Every node not `left` is `up`, and on the primary's topology digest. */
export async function clusterChecks(
  read: () => Promise<{ primary: string | null; nodes: ValidateNode[] }>,
): Promise<CheckRecord[]> {
  let view: { primary: string | null; nodes: ValidateNode[] };
  try {
    view = await timed("the cluster view", read());
  } catch (err) {
    return [fail("cluster nodes", `cannot read the cluster's nodes: ${(err as Error).message}`)];
  }
  const members = view.nodes.filter((n) => n.state !== "left");
  const left = view.nodes.filter((n) => n.state === "left").map((n) => n.name);
  const leftNote = left.length > 0 ? `; ${left.join(", ")} left the cluster (not counted)` : "";
  const notUp = members.filter((n) => n.state !== "up");
  const records = [
    notUp.length > 0
      ? fail(
          "cluster nodes",
          `${notUp.map((n) => `${n.name} is ${n.state} (last heartbeat ${age(n.heartbeatAgeMs)} ago)`).join(", ")}; every node must be up for a patch phase: start its daemon (\`steward up\` on it), or take it out with \`steward cluster leave\` there${leftNote}`,
        )
      : ok("cluster nodes", `${members.length} up: ${members.map((n) => n.name).join(", ")}${leftNote}`),
  ];
  if (view.primary === null) {
    records.push(
      fail(
        "topology digest",
        "no node holds the primary lease, so there is no digest to compare with; wait a heartbeat and run validate again",
      ),
    );
    return records;
  }
  const drift = members.filter((n) => n.drift);
  records.push(
    drift.length > 0
      ? fail(
          "topology digest",
          `${drift.map((n) => `${n.name} (${n.topologyDigest.slice(0, 12)})`).join(", ")} not on the primary ${view.primary}'s topology; make the topology files identical and restart those daemons (\`steward down\`, \`steward up\`)`,
        )
      : ok("topology digest", `every node on the primary ${view.primary}'s topology`),
  );
  return records;
}
