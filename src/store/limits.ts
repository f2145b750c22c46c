/**
 * @module store/limits
 * How many job runs and patch sessions the stores list and keep, and the checks on the numbers a
 * caller passes to a listing, the same for both backends.
 */
import { BadRequestError } from "../errors.js";

/** Runs `listJobRuns` returns when no limit is given. */
export const DEFAULT_JOB_RUNS_LIMIT = 20;

/** Finished runs of each job that `clearVolatile` keeps (the newest); running runs always stay. */
export const JOB_RUNS_KEPT = 100;

/** Sessions `listPatchSessions` returns when no limit is given. */
export const DEFAULT_PATCH_SESSIONS_LIMIT = 20;

/**
 * `value` when it is a whole number ≥ `min`.
 *
 * @param what the argument, for the message: ``job runs `limit` ``.
 * @param key its name in the error's details.
 * @throws BadRequestError (STW-1006) saying what was expected and what was given.
 */
function wholeNumber(what: string, key: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BadRequestError(
      `${what}: expected a whole number ≥ ${min}, got ${String(value)} (${typeof value})`,
      { [key]: String(value) },
    );
  }
  return value;
}

/**
 * `limit` when it is a whole number ≥ 0.
 *
 * @throws BadRequestError (STW-1006) saying what was expected and what was given.
 * @example jobRunsLimit(5) // → 5; jobRunsLimit(-1) throws
 */
export function jobRunsLimit(limit: number): number {
  return wholeNumber("job runs `limit`", "limit", limit, 0);
}

/**
 * `limit` when it is a whole number ≥ 0.
 *
 * @throws BadRequestError (STW-1006) saying what was expected and what was given.
 * @example patchSessionsLimit(5) // → 5; patchSessionsLimit(1.5) throws
 */
export function patchSessionsLimit(limit: number): number {
  return wholeNumber("patch sessions `limit`", "limit", limit, 0);
}

/**
 * `id` when it is a whole number ≥ 1, as session ids are (both backends then answer alike: SQLite
 * would find no `1.5`, PostgreSQL would refuse it).
 *
 * @throws BadRequestError (STW-1006) saying what was expected and what was given.
 * @example patchSessionId(3) // → 3; patchSessionId(0) throws
 */
export function patchSessionId(id: number): number {
  return wholeNumber("patch session id", "session", id, 1);
}
