/**
 * @module daemon/boot
 * What a booting daemon concludes from the record its predecessor left: the instance count
 * (100 at first boot, +1 after each crash, reset by an orderly shutdown) and the boot kind, which
 * decides whether replicas are re-adopted (`Supervisor.adoptAll`, recovery/sweep).
 */
import type { DaemonRecord } from "../store/records.js";

/**
 * The record of a booting daemon. `active` left behind → the previous daemon crashed: instance + 1,
 * `recovered`. `handover` → it exited for `steward daemon restart`: same instance, `handover`. Both
 * re-adopt the replicas; `stopped` or no record → a clean boot at instance 100.
 */
export function bootRecord(previous: DaemonRecord | undefined, topologyFile: string): DaemonRecord {
  const crashed = previous?.state === "active";
  const handover = previous?.state === "handover";
  const now = Date.now();
  return {
    state: "active",
    pid: process.pid,
    instance: crashed ? previous.instance + 1 : handover ? previous.instance : 100,
    bootKind: crashed ? "recovered" : handover ? "handover" : "clean",
    bootedAt: now,
    topologyFile,
    updatedAt: now,
  };
}
