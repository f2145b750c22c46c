/**
 * @module patching/errors
 * The failures of online patching, each with a stable code in the `STW-30nn` range. Every message
 * says what is wrong, where, and what to do next; state is left as it was.
 */
import { StewardError, type ErrorDetails } from "../errors.js";

/** One problem found in a `patch.yaml`, located at file:line:column (as topology issues are). */
export interface PatchIssue {
  file: string;
  line: number;
  column: number;
  /** Key path, e.g. `steps.0`. */
  path: string;
  message: string;
}

/** A patch that cannot be used: no `patch.yaml`, unknown keys, wrong types; lists every problem. */
export class InvalidPatchError extends StewardError {
  readonly issues: PatchIssue[];
  constructor(source: string, issues: PatchIssue[]) {
    const lines = issues.map(
      (i) =>
        `${i.file}${i.line > 0 ? `:${i.line}:${i.column}` : ""}: ${i.path ? `\`${i.path}\`: ` : ""}${i.message}`,
    );
    super("STW-3001", `invalid patch ${source}:\n  ${lines.join("\n  ")}`, {
      httpStatus: 400,
      details: { source, issues },
    });
    this.issues = issues;
  }
}

/** A phase run out of order; names the phase that can run now. */
export class PhaseOrderError extends StewardError {
  constructor(phase: string, why: string, next: string, details: ErrorDetails = {}) {
    super("STW-3002", `cannot run \`patch ${phase}\`: ${why}; next: \`steward patch ${next}\``, {
      httpStatus: 409,
      details: { phase, why, next, ...details },
    });
  }
}

/** A patch whose `requires` names patches the patch edition does not hold. */
export class MissingRequirementError extends StewardError {
  constructor(patch: string, missing: string[]) {
    super(
      "STW-3003",
      `patch ${patch} requires ${missing.join(", ")}, not applied to the patch edition; apply ${missing.length === 1 ? "it" : "them"} first (in the same \`patch apply\`, before ${patch})`,
      { httpStatus: 409, details: { patch, missing } },
    );
  }
}

/** A patch step, sync or verify command that failed; `log` is where its output went. */
export class PatchStepError extends StewardError {
  constructor(what: string, reason: string, log: string, details: ErrorDetails = {}) {
    super("STW-3004", `${what} failed: ${reason}; see ${log}`, {
      httpStatus: 500,
      details: { what, reason, log, ...details },
    });
  }
}

/** A patch archive entry that would write outside the edition (`../`, an absolute path, a link). */
export class UnsafePatchArchiveError extends StewardError {
  constructor(archive: string, entry: string, reason: string) {
    super(
      "STW-3005",
      `refusing patch archive ${archive}: entry \`${entry}\` ${reason}; nothing was written`,
      {
        httpStatus: 400,
        details: { archive, entry, reason },
      },
    );
  }
}

/**
 * A patch archive past a limit on what it may unpack to (size, entries, compression ratio),
 * refused as soon as the streaming reader sees it; says how to raise the limit when it can be.
 */
export class PatchTooLargeError extends StewardError {
  constructor(archive: string, what: string, raise?: { flag: string; suggestion: string }) {
    const how = raise
      ? `; if it is genuine, raise the limit: \`steward patch apply ${raise.flag} ${raise.suggestion} …\``
      : "";
    super("STW-3009", `patch archive ${archive} is too large: ${what}; nothing was written${how}`, {
      httpStatus: 400,
      details: { archive, what, ...(raise ? { flag: raise.flag } : {}) },
    });
  }
}

/** Not enough free disk space for a phase. */
export class InsufficientDiskError extends StewardError {
  constructor(dir: string, neededBytes: number, freeBytes: number) {
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
    super(
      "STW-3006",
      `not enough free space under ${dir}: need ${mb(neededBytes)} (the run edition's size plus a margin), ${mb(freeBytes)} free; free some space and run the phase again`,
      { httpStatus: 507, details: { dir, neededBytes, freeBytes } },
    );
  }
}

/** The editions layout under `patching.root` is missing or damaged. */
export class EditionLayoutError extends StewardError {
  constructor(root: string, reason: string) {
    super("STW-3007", `patching root ${root}: ${reason}`, { httpStatus: 409, details: { root, reason } });
  }
}

/** The topology has no `patching` section. */
export class PatchingNotConfiguredError extends StewardError {
  constructor(file: string) {
    super(
      "STW-3008",
      `${file} has no \`patching\` section; add \`patching: { root: DIR }\` and run \`steward patch init --from APPDIR\``,
      { httpStatus: 409, details: { file } },
    );
  }
}
