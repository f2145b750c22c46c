/**
 * @module patching/run-commands
 * Running a patch's steps, its verify commands, or `custom_sync`: one command at a time, each in
 * its own process group, its output in its own log file `<logDir>/<NN>-<label>.log`. `startAt`
 * resumes after the commands already completed; `onDone` is awaited after each success (the
 * caller records progress durably there).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_PATH, runHook } from "../process/index.js";
import type { CommandSpec } from "../topology/types.js";
import { PatchStepError } from "./errors.js";

/** A step that runs longer than this is killed (its whole process group). */
export const DEFAULT_STEP_TIMEOUT_MS = 30 * 60_000;

export interface RunCommandsOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** What the commands are, for log names and messages: `step`, `verify`, `custom-sync`. */
  label: string;
  /** Index of the first command to run (those before it completed earlier). @default 0 */
  startAt?: number;
  /** @default 30 minutes */
  timeoutMs?: number;
  /** Go on after a failure, recording it (`prepare --skip-sync-errors`). @default false */
  tolerateErrors?: boolean;
  onDone?: (index: number) => void | Promise<void>;
}

/**
 * @example await runCommands(["node build.js"], { cwd: edition, env: process.env, logDir, label: "step" })
 * @throws PatchStepError naming the command, how it failed and its log (unless `tolerateErrors`)
 */
export async function runCommands(
  commands: readonly CommandSpec[],
  opts: RunCommandsOptions,
): Promise<{ ran: number; failed: { index: number; exitCode: number | null; log: string }[] }> {
  await mkdir(opts.logDir, { recursive: true });
  const failed: { index: number; exitCode: number | null; log: string }[] = [];
  let ran = 0;
  for (let index = opts.startAt ?? 0; index < commands.length; index += 1) {
    const command = commands[index]!;
    const log = join(opts.logDir, `${String(index + 1).padStart(2, "0")}-${opts.label}.log`);
    const result = await runHook({
      command,
      cwd: opts.cwd,
      env: { PATH: DEFAULT_PATH, ...opts.env },
      logFile: log,
      timeoutMs: opts.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    });
    ran += 1;
    if (result.exitCode === 0 && !result.timedOut) {
      await opts.onDone?.(index);
      continue;
    }
    const how = result.timedOut
      ? `timed out after ${Math.round((opts.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS) / 1000)} s and was killed`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with code ${result.exitCode}`;
    const shown = typeof command === "string" ? command : command.join(" ");
    if (!opts.tolerateErrors)
      throw new PatchStepError(`${opts.label} ${index + 1} (\`${shown}\`)`, how, log, { index });
    failed.push({ index, exitCode: result.exitCode, log });
  }
  return { ran, failed };
}
