/**
 * @module store/errors
 * Errors of the **store** (design §4), codes `STW-20nn`. Each names the store's location and says
 * what an operator can do; the underlying driver error is kept as `cause`.
 */
import { StewardError } from "../errors.js";

/** The store file is not a SQLite database, or it is damaged. */
export class StoreCorruptError extends StewardError {
  constructor(location: string, problem: string, cause?: unknown) {
    super(
      "STW-2001",
      `state store ${location} ${problem}, so Steward cannot read it. ` +
        `If this file is not Steward's, point \`store:\` in the topology elsewhere. Otherwise stop Steward and ` +
        `move it aside (mv '${location}' '${location}.corrupt'); the next start creates an empty store, ` +
        `but replicas still running from before are not re-adopted and must be stopped by hand. ` +
        `To try to salvage its records: sqlite3 '${location}.corrupt' .recover | sqlite3 '${location}.recovered'`,
      { httpStatus: 500, details: { location, problem }, cause },
    );
  }
}

/** The store could not be opened or created (missing permission, a directory in the way, locked). */
export class StoreOpenError extends StewardError {
  constructor(location: string, problem: string, cause?: unknown) {
    super("STW-2002", `cannot open state store ${location}: ${problem}`, {
      httpStatus: 500,
      details: { location, problem },
      cause,
    });
  }
}

/** The store was migrated by a newer Steward: its schema has versions this Steward does not know. */
export class StoreSchemaError extends StewardError {
  constructor(location: string, storeVersion: number, knownVersion: number) {
    super(
      "STW-2003",
      `state store ${location} has schema version ${storeVersion}, newer than this Steward knows ` +
        `(${knownVersion}); it was written by a newer Steward. Run that version, or point \`store:\` elsewhere.`,
      { httpStatus: 500, details: { location, storeVersion, knownVersion } },
    );
  }
}

/** The topology asks for a store this build cannot provide yet. */
export class StoreUnsupportedError extends StewardError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("STW-2004", message, { httpStatus: 400, details });
  }
}

/** A commit (or clear) failed; its transaction was rolled back, so nothing of it was written. */
export class StoreWriteError extends StewardError {
  /**
   * @param operation `commit` or `clearVolatile`.
   * @param at the record being written when it failed, e.g. `replica engine[0]`.
   */
  constructor(location: string, operation: string, problem: string, at?: string, cause?: unknown) {
    const where = at === undefined ? "" : ` at ${at}`;
    super(
      "STW-2005",
      `${operation} on state store ${location} failed${where}: ${problem}; ` +
        `the transaction was rolled back, nothing of it was written`,
      {
        httpStatus: 500,
        details: { location, operation, problem, ...(at === undefined ? {} : { at }) },
        cause,
      },
    );
  }
}

/** Reading records failed for a reason other than corruption (I/O error, lock held too long). */
export class StoreReadError extends StewardError {
  constructor(location: string, problem: string, cause?: unknown) {
    super("STW-2006", `could not read state store ${location}: ${problem}`, {
      httpStatus: 500,
      details: { location, problem },
      cause,
    });
  }
}

/**
 * The store's database could not be reached: connection refused, the server went away, a backend
 * was terminated, or it did not answer in time. Unlike a refused record (STW-2005) this passes: a
 * running daemon queues its writes and retries them, and supervision goes on meanwhile.
 */
export class StoreUnreachableError extends StewardError {
  /**
   * @param operation what was being done: `open`, `read`, `commit` or `clearVolatile`.
   * @param problem what happened, e.g. `connection refused (ECONNREFUSED)`.
   */
  constructor(location: string, operation: string, problem: string, cause?: unknown) {
    const consequence =
      operation === "open"
        ? "Steward cannot start without its state; check that the database runs and accepts connections"
        : "the daemon queues its writes and retries them until the database answers; supervision continues";
    super("STW-2007", `state store ${location} is unreachable (${operation}): ${problem}; ${consequence}`, {
      httpStatus: 503,
      details: { location, operation, problem },
      cause,
    });
  }
}
