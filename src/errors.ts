/**
 * @module errors
 * One error class per failure, each with a stable code (`STW-nnnn`), context fields (`details`)
 * and an optional `cause`. The control API renders them as `{ error: { code, message, details } }`
 * with `httpStatus`; the CLI prints the message and exits non-zero.
 */

export interface ErrorDetails {
  [key: string]: unknown;
}

export class StewardError extends Error {
  /** Stable machine-readable code, e.g. `STW-1001`. */
  readonly code: string;
  /** HTTP status the control API answers with. */
  readonly httpStatus: number;
  readonly details: ErrorDetails;

  constructor(
    code: string,
    message: string,
    opts: { httpStatus?: number; details?: ErrorDetails; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = opts.httpStatus ?? 500;
    this.details = opts.details ?? {};
  }

  toJSON(): { error: { code: string; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** One problem found in a topology file, located at file:line:column. */
export interface TopologyIssue {
  file: string;
  line: number;
  column: number;
  /** Key path, e.g. `components.engine.stop.grace`. */
  path: string;
  message: string;
}

/** The topology file is invalid; `issues` lists every problem found, each with its location. */
export class TopologyError extends StewardError {
  readonly issues: TopologyIssue[];
  /** `more`: problems found beyond those listed (the list is capped; see topology/source-guards). */
  constructor(issues: TopologyIssue[], more = 0) {
    const lines = issues.map(
      (i) => `${i.file}:${i.line}:${i.column}: ${i.path ? `\`${i.path}\`: ` : ""}${i.message}`,
    );
    if (more > 0) lines.push(`… and ${more} more problem${more === 1 ? "" : "s"} (fix these first)`);
    super("STW-1001", `invalid topology:\n  ${lines.join("\n  ")}`, {
      httpStatus: 400,
      details: { issues, ...(more > 0 ? { more } : {}) },
    });
    this.issues = issues;
  }
}

/** The topology file cannot be read at all. */
export class TopologyReadError extends StewardError {
  constructor(file: string, reason: string, cause?: unknown) {
    super(
      "STW-1012",
      `cannot read topology file ${file}: ${reason}; pass -f FILE or run where steward.yaml is`,
      {
        httpStatus: 400,
        details: { file, reason },
        cause,
      },
    );
  }
}

/** `depends_on` forms a cycle; `cycle` lists it with the first component repeated at the end. */
export class DependencyCycleError extends StewardError {
  readonly cycle: string[];
  constructor(cycle: string[], file: string) {
    super("STW-1002", `${file}: dependency cycle: ${cycle.join(" → ")}`, {
      httpStatus: 400,
      details: { cycle },
    });
    this.cycle = cycle;
  }
}

/** A name given on the CLI or API that the topology does not declare. */
export class UnknownComponentError extends StewardError {
  constructor(name: string, known: string[], suggestion?: string) {
    const hint = suggestion ? ` (did you mean \`${suggestion}\`?)` : "";
    super("STW-1003", `unknown component \`${name}\`${hint}; the topology declares: ${known.join(", ")}`, {
      httpStatus: 404,
      details: { name, known, ...(suggestion ? { suggestion } : {}) },
    });
  }
}

/** An action that the current state does not allow; names the state. */
export class IllegalStateError extends StewardError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("STW-1004", message, { httpStatus: 409, details });
  }
}

/** A second daemon on the same home. */
export class DaemonRunningError extends StewardError {
  constructor(pid: number, home: string) {
    super("STW-1005", `a steward daemon is already running on ${home} (pid ${pid})`, {
      httpStatus: 409,
      details: { pid, home },
    });
  }
}

/** A malformed request to the control API. */
export class BadRequestError extends StewardError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("STW-1006", message, { httpStatus: 400, details });
  }
}

/** The CLI could not reach the daemon. */
export class DaemonUnreachableError extends StewardError {
  constructor(socket: string, cause?: unknown) {
    super("STW-1007", `no steward daemon is listening on ${socket}; run \`steward up\` to start one`, {
      httpStatus: 503,
      details: { socket },
      cause,
    });
  }
}

/** A replica could not be started or stopped; `reason` is what an operator should read. */
export class ReplicaError extends StewardError {
  constructor(component: string, index: number, reason: string, cause?: unknown) {
    super("STW-1008", `${component}[${index}]: ${reason}`, {
      httpStatus: 500,
      details: { component, index, reason },
      cause,
    });
  }
}

/** A lifecycle operation failed (start did not reach ready, a dependency failed…). */
export class OperationError extends StewardError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("STW-1009", message, { httpStatus: 500, details });
  }
}

/**
 * The daemon is re-adopting replicas and resuming interrupted operations after a crash: a mutating
 * call waits. Answered with 503 and `Retry-After`; the CLI waits and retries.
 */
export class RecoveringError extends StewardError {
  /** Seconds a client should wait before it asks again. */
  static readonly RETRY_AFTER_S = 1;

  constructor(instance: number, resuming: string[]) {
    const what = resuming.length > 0 ? `; resuming ${resuming.join(", ")}` : "";
    super(
      "RECOVERING",
      `the daemon is recovering after a crash (instance ${instance})${what}; try again in a moment`,
      { httpStatus: 503, details: { instance, resuming, retryAfterSeconds: RecoveringError.RETRY_AFTER_S } },
    );
  }
}

/** The daemon went away while an operation it was running streamed its progress. */
export class DaemonLostError extends StewardError {
  constructor(socket: string, cause?: unknown) {
    super(
      "STW-1015",
      "the daemon ended while the operation was under way (it crashed or was killed); its journal keeps the operation, and the next daemon resumes it: run `steward up` to start one",
      { httpStatus: 503, details: { socket }, cause },
    );
  }
}
