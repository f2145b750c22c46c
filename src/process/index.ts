/**
 * @module process
 * Processes on Linux: commands → argv, spawning replicas and hooks in their own process group with
 * output to log files, `/proc` inspection, group termination, probes and the readiness gate,
 * ports, log rotation and restart pacing.
 */
export {
  parseCommand,
  splitShellWords,
  hasShellSyntax,
  resolveExecutable,
  SHELL,
  DEFAULT_PATH,
} from "./command.js";
export type { ParsedCommand } from "./command.js";
export { SpawnError, PortInUseError } from "./errors.js";
export { spawnReplica, runHook } from "./spawn.js";
export type { SpawnReplicaOptions, SpawnedReplica, RunHookOptions, HookResult } from "./spawn.js";
export {
  parseStat,
  readStat,
  readStartTime,
  isAlive,
  groupMembers,
  isGroupAlive,
  readCommandLine,
  readCwd,
  listeningInodes,
  portHolder,
} from "./proc.js";
export type { ProcStat, PortHolder } from "./proc.js";
export { signalGroup, waitGroupExit, terminateGroup } from "./kill.js";
export type { TerminateOptions, TerminateResult } from "./kill.js";
export { probeTcp, probeHttp, probeExec, probeLog, logCursor, createProbe } from "./probes.js";
export type { ProbeResult, ExecProbeOptions, LogCursor, ProbeContext, Probe } from "./probes.js";
export { waitReady } from "./ready.js";
export type { ReadyContext, ReadyOutcome } from "./ready.js";
export { allocatePort, isPortInUse, assertPortFree } from "./ports.js";
export { rotateIfNeeded, tailLines, follow } from "./logfile.js";
export { watchExit } from "./watch.js";
export { findOrphans, isMarkedGroup, jobMarkerEnv, markerEnv } from "./orphans.js";
export type { Claim, OrphanGroup } from "./orphans.js";
export type { FollowOptions } from "./logfile.js";
export { backoffDelay, RestartLimiter } from "./backoff.js";
export { formatMs } from "./duration.js";
