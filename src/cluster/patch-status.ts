/**
 * @module cluster/patch-status
 * `steward patch status` in a cluster: each node's newest patch session, read from that node's own
 * schema (its state records), so a node that is down still shows where it stood.
 */
import type pg from "pg";
import { queryNodeTables } from "./node-schemas.js";

export interface NodePatchState {
  node: string;
  /** The node's state in the cluster (`up`, `down`, …). */
  state: string;
  session: number | null;
  status: string | null;
  /** Each phase begun, with its state: `prepare done`, `apply failed`, … */
  phases: string[];
  runEdition: string | null;
}

const ORDER = ["prepare", "apply", "finalize", "cutover", "cleanup", "abort", "fs-clone"];

export async function readNodePatchStates(
  db: pg.Pool,
  nodes: readonly { name: string; state: string }[],
): Promise<NodePatchState[]> {
  const rows = await queryNodeTables<{
    node: string;
    id: number;
    status: string;
    phases: string;
    run_edition: string;
  }>(
    db,
    nodes.map((n) => n.name),
    "patch_sessions",
    (node, table) =>
      `SELECT ${node} AS node, id, status, phases, run_edition FROM ${table} ORDER BY id DESC LIMIT 1`,
    [],
  );
  return nodes.map((n): NodePatchState => {
    const r = rows.find((x) => x.node === n.name);
    const phases = r ? (JSON.parse(r.phases) as Record<string, { state: string }>) : {};
    return {
      node: n.name,
      state: n.state,
      session: r?.id ?? null,
      status: r?.status ?? null,
      phases: ORDER.filter((p) => phases[p]).map((p) => `${p} ${phases[p]!.state}`),
      runEdition: r?.run_edition ?? null,
    };
  });
}

/** The lines `steward patch status` prints for the cluster. */
export function renderNodePatchStates(states: readonly NodePatchState[]): string[] {
  if (states.length === 0) return [];
  const rows = states.map((s) => [
    s.node,
    s.state,
    s.session === null ? "-" : String(s.session),
    s.status ?? "no session",
    s.phases.join(", ") || "-",
  ]);
  const head = ["NODE", "STATE", "SESSION", "STATUS", "PHASES"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join("  ");
  return ["cluster: each node's newest patch session", line(head), ...rows.map(line)];
}
