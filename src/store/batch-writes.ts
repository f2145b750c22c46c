/**
 * @module store/batch-writes
 * A `StateBatch` as the ordered list of statements both stores run in its one transaction: daemon,
 * components, replicas, replica deletions, operations, steps, job runs, patch sessions, patch
 * applications, patch editions, the maintenance record (deleted when `null`), then tokens. Each write names
 * its record, so a refused one is reported by name; its row is built inside the transaction, so a
 * record the mapping refuses is reported the same way.
 */
import type { StoreQueries } from "./queries.js";
import type { StateBatch } from "./records.js";
import {
  componentToRow,
  daemonToRow,
  jobRunToRow,
  maintenanceToRow,
  operationToRow,
  patchApplicationToRow,
  patchEditionToRow,
  patchSessionToRow,
  replicaToRow,
  stepToRow,
  tokenToRow,
} from "./rows.js";

export interface BatchWrite {
  /** The record, for an error message: `replica engine[1]`, `the maintenance record`. */
  what: string;
  query: keyof StoreQueries;
  row: () => object;
}

/** The writes of `batch`, in order; empty for an empty batch. */
export function batchWrites(batch: StateBatch): BatchWrite[] {
  const { daemon, components = [], replicas = [], deleteReplicas = [], operations = [] } = batch;
  const { steps = [], jobRuns = [], patchSessions = [], patchApplications = [], patchEditions = [] } = batch;
  const { maintenance, tokens = [] } = batch;
  const writes: BatchWrite[] = [];
  if (daemon !== undefined)
    writes.push({ what: "the daemon record", query: "upsertDaemon", row: () => daemonToRow(daemon) });
  for (const c of components)
    writes.push({ what: `component ${c.name}`, query: "upsertComponent", row: () => componentToRow(c) });
  for (const r of replicas)
    writes.push({
      what: `replica ${r.component}[${r.index}]`,
      query: "upsertReplica",
      row: () => replicaToRow(r),
    });
  for (const k of deleteReplicas)
    writes.push({
      what: `the deletion of replica ${k.component}[${k.index}]`,
      query: "deleteReplica",
      row: () => ({ component: k.component, replica_index: k.index }),
    });
  for (const o of operations)
    writes.push({ what: `operation ${o.id}`, query: "upsertOperation", row: () => operationToRow(o) });
  for (const s of steps)
    writes.push({
      what: `step ${s.seq} of operation ${s.operationId}`,
      query: "upsertStep",
      row: () => stepToRow(s),
    });
  for (const j of jobRuns)
    writes.push({ what: `job run ${j.id}`, query: "upsertJobRun", row: () => jobRunToRow(j) });
  for (const p of patchSessions)
    writes.push({
      what: `patch session ${p.id} on ${p.node}`,
      query: "upsertPatchSession",
      row: () => patchSessionToRow(p),
    });
  for (const a of patchApplications)
    writes.push({
      what: `patch ${a.patchId} in patch session ${a.session} on ${a.node}`,
      query: "upsertPatchApplication",
      row: () => patchApplicationToRow(a),
    });
  for (const e of patchEditions)
    writes.push({
      what: `patch edition ${e.edition} on ${e.node}`,
      query: "upsertPatchEdition",
      row: () => patchEditionToRow(e),
    });
  if (maintenance !== undefined)
    writes.push(
      maintenance === null
        ? { what: "the maintenance record", query: "deleteMaintenance", row: () => ({}) }
        : {
            what: "the maintenance record",
            query: "upsertMaintenance",
            row: () => maintenanceToRow(maintenance),
          },
    );
  for (const t of tokens)
    writes.push({ what: `token ${t.name}`, query: "upsertToken", row: () => tokenToRow(t) });
  return writes;
}
