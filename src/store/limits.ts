/**
 * @module store/limits
 * How many job runs the stores list and keep, the same for both backends.
 */
import { BadRequestError } from "../errors.js";

/** Runs `listJobRuns` returns when no limit is given. */
export const DEFAULT_JOB_RUNS_LIMIT = 20;

/** Finished runs of each job that `clearVolatile` keeps (the newest); running runs always stay. */
export const JOB_RUNS_KEPT = 100;

/**
 * `limit` when it is a whole number ≥ 0.
 *
 * @throws BadRequestError (STW-1006) saying what was expected and what was given.
 * @example jobRunsLimit(5) // → 5; jobRunsLimit(-1) throws
 */
export function jobRunsLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new BadRequestError(
      `job runs \`limit\`: expected a whole number ≥ 0, got ${String(limit)} (${typeof limit})`,
      { limit: String(limit) },
    );
  }
  return limit;
}
