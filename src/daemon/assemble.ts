/**
 * @module daemon/assemble
 * The parts of a booting daemon, put together in order: its record (instance count, boot kind),
 * the event bus and state writer, the edge, the supervisor (with the records a crashed or handed-over
 * predecessor left), the job runner, and — when taking over — the interrupted operations and the
 * re-adoption of every replica still alive. Listening and recovery come after (daemon/daemon).
 */
import { EventBus } from "../events/events.js";
import { JobRunner } from "../lifecycle/job-runner.js";
import { Supervisor } from "../lifecycle/supervisor.js";
import { OperationLog } from "../recovery/journal.js";
import type { DaemonRecord, DesiredState, ReplicaRecord } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import { StateWriter } from "../store/state-writer.js";
import { raiseNofileLimit, type NofileOutcome } from "../process/nofile.js";
import type { CompiledTopology } from "../topology/types.js";
import { bootRecord } from "./boot.js";
import { DaemonEdge } from "./edge-wiring.js";
import { log } from "./log.js";
import { DaemonPatching } from "./patch-wiring.js";

/** What a take-over did, for `status`. */
export interface RecoverySummary {
  /** Replicas taken over under their recorded pid. */
  adopted: number;
  /** Replicas whose process had ended while no daemon watched them. */
  lost: number;
  /** Process groups no replica claimed, stopped by the sweep. */
  orphans: number;
  /** Replicas caught mid-start or in backoff, started again. */
  revived: number;
  /** Kinds of the interrupted operations resumed, oldest first. */
  resumed: string[];
}

export interface Assembled {
  record: DaemonRecord;
  /** After a crash or a handover: replicas are re-adopted, operations resumed. */
  takingOver: boolean;
  desired: Map<string, DesiredState>;
  /** The replica records the predecessor left (none after an orderly shutdown). */
  records: ReplicaRecord[];
  bus: EventBus;
  writer: StateWriter;
  edge: DaemonEdge | undefined;
  supervisor: Supervisor;
  jobs: JobRunner;
  interrupted: OperationLog[];
  recovery?: RecoverySummary;
}

export async function assemble(topology: CompiledTopology, store: StateStore): Promise<Assembled> {
  logNofile(raiseNofileLimit());
  const previous = await store.readDaemon();
  const record = bootRecord(previous, topology.file);
  const takingOver = record.bootKind !== "clean";
  // After a crash or a handover the records say what ran; after an orderly shutdown there are none.
  const records = takingOver ? await store.listReplicas() : [];
  const desired = new Map((await store.listComponents()).map((c) => [c.name, c.desired]));
  await store.commit({ daemon: record });
  const bus = new EventBus();
  logEvents(bus);
  const writer = new StateWriter(store, (err) => log("error", `state store write failed: ${String(err)}`), {
    onRestored: ({ writes }) => log("info", `state store reachable again; ${writes} queued writes flushed`),
  });
  const edge = DaemonEdge.create(topology);
  const runEdition = DaemonPatching.runEdition(topology);
  const supervisor = new Supervisor(
    topology,
    {
      bus,
      writer,
      ...(edge ? { routing: edge.routing, surge: edge.surge } : {}),
      ...(runEdition ? { runEdition } : {}),
    },
    records,
    takingOver ? await DaemonPatching.preferred(store) : new Map(),
  );
  edge?.follow(
    bus,
    () => supervisor,
    (m) => log("warn", m),
  );
  const jobs = new JobRunner(topology.jobs, {
    home: topology.home,
    writer,
    bus,
    log,
    ...(runEdition ? { runEdition } : {}),
  });
  // Runs a previous daemon left running are taken over, or recorded as lost.
  const runs = jobs.adopt(await store.listRunningJobRuns());
  if (runs.adopted + runs.lost > 0)
    log("info", `jobs: ${runs.adopted} run(s) re-adopted, ${runs.lost} ended while no daemon watched`);
  const maintenance = await store.readMaintenance();
  jobs.startSchedules(new Set(maintenance?.pausedSchedules ?? []));
  edge?.markOffline(maintenance?.components ?? []);
  const assembled: Assembled = {
    record,
    takingOver,
    desired,
    records,
    bus,
    writer,
    edge,
    supervisor,
    jobs,
    interrupted: [],
  };
  if (!takingOver) return assembled;
  log(
    record.bootKind === "recovered" ? "warn" : "info",
    record.bootKind === "recovered"
      ? `the previous daemon (pid ${previous?.pid}) did not shut down in order; instance ${record.instance}: recovering`
      : `taking over from daemon ${previous?.pid} (daemon restart); instance ${record.instance}`,
  );
  for (const op of await store.listOperations("running"))
    assembled.interrupted.push(await OperationLog.resume(writer, op, await store.listSteps(op.id)));
  const { adopted, lost } = supervisor.adoptAll(desired, assembled.interrupted);
  log("info", `recovery: ${adopted} replica(s) re-adopted, ${lost} gone while no daemon watched them`);
  assembled.recovery = {
    adopted,
    lost,
    orphans: 0,
    revived: 0,
    resumed: assembled.interrupted.map((op) => op.record.kind),
  };
  return assembled;
}

/** The descriptor limit, once at boot (the edge's connection budget is derived from it). */
function logNofile(n: NofileOutcome): void {
  if (n.limit === undefined) log("warn", `file descriptors: limit unknown (${n.problem})`);
  else if (n.raisedFrom !== undefined)
    log(
      "info",
      `file descriptors: limit ${n.limit.soft} (soft limit raised from ${n.raisedFrom} to the hard limit)`,
    );
  else if (n.problem !== undefined)
    log(
      "warn",
      `file descriptors: limit ${n.limit.soft}, not raised to the hard limit ${n.limit.hard}: ${n.problem}`,
    );
  else log("info", `file descriptors: limit ${n.limit.soft} (the hard limit)`);
}

/** The daemon log follows every replica transition, from boot on (adoption included). */
function logEvents(bus: EventBus): void {
  bus.subscribe(({ name, data }) => {
    if ("index" in data) {
      const why = data.reason ? `: ${data.reason}` : "";
      log(
        name === "replica:failed" || name === "replica:crashed" ? "warn" : "info",
        `${data.component}[${data.index}] ${data.previous} → ${data.state}${data.pid ? ` (pid ${data.pid})` : ""}${why}`,
      );
    } else if (name === "operation:failed") {
      log("warn", `${data.operation}: ${data.component ?? ""} ${data.message}`);
    }
  });
}
