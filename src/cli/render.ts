/**
 * @module cli/render
 * What the CLI prints: the status table and the live progress lines of an operation.
 */
import type { StreamLine } from "../api/app.js";
import type { StatusDocument } from "../daemon/status.js";
import { formatMs } from "../process/duration.js";
import type { OperationResult } from "../lifecycle/supervisor.js";
import type { PhaseResult } from "../patching/cycle.js";
import type { MembershipStatus } from "../cluster/types.js";
import { renderPlacement } from "../cluster/placement-view.js";
import { renderReseeds } from "../cluster/reseed-view.js";

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function renderStatus(s: StatusDocument, now = Date.now()): string {
  const d = s.daemon;
  const head = `${s.name} — daemon ${d.state} · pid ${d.pid} · instance ${d.instance} (${d.bootKind} boot) · up ${formatMs(now - d.bootedAt)} · ${d.store}`;
  const rec = d.recovery;
  const took =
    rec === undefined
      ? ""
      : `\n${d.bootKind === "handover" ? "took over" : "recovered"}: ${rec.adopted} replica(s) re-adopted, ` +
        `${rec.lost} had ended, ${rec.orphans} orphan group(s) stopped, ${rec.revived} started again` +
        (rec.resumed.length > 0 ? `; resumed: ${rec.resumed.join(", ")}` : "") +
        (d.state === "recovering" ? " — still recovering: operations wait" : "");
  const rows = [["COMPONENT", "#", "STATE", "PID", "PORT", "RESTARTS", "FOR", "NOTE"]];
  for (const c of s.components)
    for (const r of c.replicas) {
      const note = [r.invalidated ? "invalidated" : "", r.reason ?? ""].filter(Boolean).join(": ");
      rows.push([
        c.name,
        String(r.index),
        r.state,
        r.pid === null ? "-" : String(r.pid),
        r.port === null ? "-" : String(r.port),
        String(r.restarts),
        formatMs(now - r.since),
        note,
      ]);
    }
  const routes = (s.routing ?? []).map((c) => {
    const replicas = c.replicas
      .map((r) => `[${r.index}] ${r.state}${r.reason ? ` (${r.reason})` : ""}`)
      .concat(
        (c.remote ?? []).map((r) => `${r.node}[${r.index}] ${r.state}${r.reason ? ` (${r.reason})` : ""}`),
      )
      .join(", ");
    const detect =
      c.detectionMs === null
        ? "passive detection only"
        : `failure detected within ≈${formatMs(c.detectionMs)}`;
    return `route → ${c.component}: ${c.offline ? `offline (${c.offline})` : replicas || "no replica"} · ${detect}`;
  });
  const p = s.patching;
  const patching = p
    ? [
        `patching: ${p.kind === "fs-clone" ? "fs-clone" : "patch"} session ${p.session} ${p.status}` +
          (Object.keys(p.phases).length > 0
            ? ` (${Object.entries(p.phases)
                .map(([phase, state]) => `${phase} ${state}`)
                .join(", ")})`
            : "") +
          ` · next: steward patch ${p.next}`,
      ]
    : [];
  const tail = [
    ...routes,
    ...patching,
    ...(s.cluster
      ? [
          clusterLine(s.cluster),
          ...renderPlacement(s.cluster.placement ?? [], s.cluster.node),
          ...renderReseeds(s.cluster.reseeds ?? []),
        ]
      : []),
  ];
  return `${head}${took}\n${table(rows)}${tail.length > 0 ? `\n${tail.join("\n")}` : ""}`;
}

/** `steward status` on a cluster node: one line about the cluster. */
export function clusterLine(c: MembershipStatus): string {
  const counts = Object.entries(c.nodes)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(", ");
  const role = c.primary
    ? `primary (epoch ${c.epoch})`
    : c.leaseHolder
      ? `primary is ${c.leaseHolder} (epoch ${c.epoch})`
      : "no primary";
  return `cluster: node ${c.node} (${c.advertise}) · store ${c.link} · ${role} · nodes: ${counts || "none seen"}`;
}

/** Prints progress lines as they arrive; remembers the result. */
export class ProgressPrinter {
  /** Column width for component names: room for the longest name in the plan, with `[i]`. */
  #width = 8;
  result: OperationResult | undefined;
  /** A patch phase's result (`steward patch <phase>`). */
  patch: PhaseResult | undefined;
  error: string | undefined;

  constructor(private readonly out: (line: string) => void) {}

  onLine = (line: StreamLine): void => {
    if (line.type === "plan")
      this.#width = Math.max(this.#width, ...line.components.map((c) => c.length + 3));
    else if (line.type === "result") this.result = line.result;
    else if (line.type === "warning") this.out(`! ${line.message}`);
    else if (line.type === "error") this.error = line.error.message;
    else if (line.type === "patch") this.patch = line.result;
    else {
      const { name, data } = line.event;
      if (name === "operation:step")
        this.out(
          data.component ? `  ${data.component.padEnd(this.#width)}  ${data.message}` : `  ${data.message}`,
        );
      else if (name === "operation:failed" && data.component)
        this.out(`✗ ${data.component.padEnd(this.#width)}  ${data.message}`);
      else if (
        (name === "replica:crashed" || name === "replica:backoff" || name === "replica:killed") &&
        "index" in data
      )
        this.out(
          `  ${`${data.component}[${data.index}]`.padEnd(this.#width)}  ${data.state}${data.reason ? `: ${data.reason}` : ""}`,
        );
    }
  };
}
