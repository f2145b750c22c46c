/**
 * @module store/sqlite/sqlite-errors
 * Turns better-sqlite3 failures into store errors an operator can act on, so a corrupt file or a
 * full disk reads as such and not as a driver stack trace. The driver error stays as `cause`.
 */
import { StewardError } from "../../errors.js";
import { StoreCorruptError, StoreOpenError, StoreReadError, StoreWriteError } from "../errors.js";

/** What was being done when the driver failed. */
export type SqliteAction =
  { kind: "open" } | { kind: "read" } | { kind: "write"; operation: string; at?: string };

/** The SQLite result code of a driver error (`SQLITE_NOTADB`, `SQLITE_CONSTRAINT_NOTNULL`…), if any. */
export function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Maps `err` to a `StewardError` naming `location`; a `StewardError` passes through unchanged. */
export function toStoreError(err: unknown, location: string, action: SqliteAction): StewardError {
  if (err instanceof StewardError) return err;
  const code = sqliteCode(err) ?? "";
  const message = messageOf(err);
  if (code === "SQLITE_NOTADB") {
    return new StoreCorruptError(location, "is not a SQLite database", err);
  }
  if (code.startsWith("SQLITE_CORRUPT")) {
    return new StoreCorruptError(location, `is damaged (${message})`, err);
  }
  let problem = message;
  if (code.startsWith("SQLITE_CONSTRAINT")) problem = `a record was refused (${message})`;
  else if (action.kind === "write" && (err instanceof TypeError || err instanceof RangeError)) {
    problem = `a record holds a value the store cannot take (${message})`;
  } else if (code === "SQLITE_FULL") problem = `the disk is full (${message})`;
  else if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    problem = `another process holds a lock on it (${message})`;
  } else if (code.startsWith("SQLITE_READONLY")) problem = `it is read-only (${message})`;
  else if (code.startsWith("SQLITE_IOERR")) problem = `I/O error (${code}: ${message})`;
  else if (code.startsWith("SQLITE_CANTOPEN") || code === "SQLITE_PERM" || code === "SQLITE_AUTH") {
    problem = `${message}; check that the path is a file Steward may read and write`;
  }
  switch (action.kind) {
    case "open":
      return new StoreOpenError(location, problem, err);
    case "read":
      return new StoreReadError(location, problem, err);
    case "write":
      return new StoreWriteError(location, action.operation, problem, action.at, err);
  }
}
