/**
 * @module cli/cluster-drain
 * `steward cluster drain NODE` and `steward cluster undrain NODE`: asks through this node's daemon
 * and prints the drained node's progress as it goes (`n2: draining … stopping web through their
 * stop budgets`). Exit 0 once the node is drained (or back); 1 when it failed; a refusal (the
 * numbers say why) exits 1 with nothing changed, an unknown node 2.
 */
import { resolve } from "node:path";
import { StewardError } from "../errors.js";
import { formatMs } from "../process/duration.js";
import type { DrainKind, DrainLine } from "../cluster/drain-control.js";
import type { StreamLine } from "../api/app.js";
import { stream } from "./client.js";

export async function clusterDrain(
  t: { home: string },
  kind: DrainKind,
  node: string,
  out: (line: string) => void,
): Promise<void> {
  const started = Date.now();
  let result: Extract<DrainLine, { type: "drain-result" }> | undefined;
  let error: string | undefined;
  const onLine = (raw: StreamLine): void => {
    const line = raw as unknown as DrainLine;
    if (line.type === "drain-progress") out(`${line.node}: ${line.state ?? "back"} … ${line.progress ?? ""}`);
    else if (line.type === "warning") out(`! ${line.message}`);
    else if (line.type === "error") error = line.error.message;
    else if (line.type === "drain-result") result = line;
  };
  await stream(resolve(t.home, "steward.sock"), `/v1/cluster/${kind}`, { node }, onLine);
  if (error !== undefined) throw new StewardError("STW-1009", error);
  if (!result)
    throw new StewardError("STW-1009", `cluster ${kind}: the daemon closed the stream without a result`);
  const took = formatMs(Date.now() - started);
  if (result.ok) {
    out(
      kind === "drain"
        ? `${node} drained in ${took}: other nodes' edges route around it; \`steward cluster undrain ${node}\` brings it back`
        : `${node} is back in ${took}: its replicas are routed again`,
    );
    return;
  }
  out(
    `✗ ${node}: ${result.state ?? "not drained"}: ${result.progress ?? ""} (after ${took}) — see \`steward cluster status\``,
  );
  process.exitCode = 1;
}
