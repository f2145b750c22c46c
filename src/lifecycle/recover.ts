/**
 * @module lifecycle/recover
 * The `recover` hook of an invalidated replica (its last stop had to SIGKILL): it runs before the
 * next start, in its own process group with the replica's environment and log, and must exit 0
 * for the invalidated flag to be cleared.
 */
import { runHook } from "../process/index.js";
import type { CommandSpec } from "../topology/types.js";
import type { HookEnv } from "./stop-budget.js";

/** Runs the (rendered) hook; throws the reason the replica stays invalidated when it fails. */
export async function runRecover(command: CommandSpec, timeoutMs: number, env: HookEnv): Promise<void> {
  const result = await runHook({ command, timeoutMs, ...env });
  if (result.exitCode === 0 && !result.timedOut) return;
  const how = result.timedOut ? "timed out" : `exited with ${result.exitCode ?? result.signal}`;
  throw new Error(`recover hook ${how}; the replica stays invalidated (see ${env.logFile})`);
}
