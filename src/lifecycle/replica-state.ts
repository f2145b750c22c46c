/**
 * @module lifecycle/replica-state
 * The replica lifecycle as data (design §3). Every transition goes through one setter
 * (`ReplicaSupervisor.setState`) that records it in the store and emits `replica:<state>`.
 *
 * ```
 * stopped → starting → running → ready → draining → stopping → stopped
 *                 ↘ crashed → backoff → starting …   ↘ killed (invalidated: the group was SIGKILLed)
 *                 ↘ failed (gave up: spawn error, readiness timeout, restart limit) — until an operator acts
 * offline: deliberately stopped for maintenance (the edge answers with the offline code)
 * ```
 */
export const REPLICA_STATES = [
  "stopped", // not running, nothing pending
  "starting", // recover hook / spawn in progress
  "running", // process alive, readiness not yet passed
  "ready", // readiness passed (or none configured)
  "draining", // stop budget: routing stopped, in-flight work and drain hook
  "stopping", // stop signal sent, waiting out the grace
  "backoff", // waiting before a restart
  "crashed", // exited on its own; the restart policy decides what next
  "failed", // gave up until an operator acts
  "killed", // had to be SIGKILLed: invalidated, `recover` runs before the next start
  "offline", // stopped on purpose (maintenance)
] as const;

export type ReplicaState = (typeof REPLICA_STATES)[number];

/** States in which the replica's process group may be alive. */
export const LIVE_STATES: ReadonlySet<ReplicaState> = new Set([
  "starting",
  "running",
  "ready",
  "draining",
  "stopping",
]);

/** States from which no process exists and nothing will happen without an operator. */
export const AT_REST_STATES: ReadonlySet<ReplicaState> = new Set([
  "stopped",
  "failed",
  "killed",
  "offline",
  "crashed",
]);
