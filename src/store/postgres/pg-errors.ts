/**
 * @module store/postgres/pg-errors
 * Turns `pg` failures into store errors. The line that matters is between a database that cannot be
 * reached (connection refused or lost, backend terminated, no answer in time: STW-2007, passes, the
 * state writer retries) and one that answered but refused what it was given (STW-2005, or a read or
 * open error): retrying a refusal would only fail again. The driver error stays as `cause`.
 */
import { StewardError } from "../../errors.js";
import { StoreOpenError, StoreReadError, StoreUnreachableError, StoreWriteError } from "../errors.js";

/** What was being done when the driver failed. */
export type PgAction =
  { kind: "open" } | { kind: "read" } | { kind: "write"; operation: string; at?: string };

/** Socket errors of a server that is down, unreachable or went away. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01..57P03 (the
 * backend was terminated, the server crashed or is starting), 53300 (too many connections), 57014
 * (the statement outlived `statement_timeout`: a lock held elsewhere, worth another try).
 */
function isConnectionState(state: string): boolean {
  return state.startsWith("08") || /^57P0[123]$/.test(state) || state === "53300" || state === "57014";
}

/** Messages `pg` gives its own connection failures (they carry no code). */
const CLIENT_MESSAGES =
  /Connection terminated|connection timeout|timeout expired|Query read timeout|not queryable|Client was closed|Connection ended/i;

function codeOf(err: unknown): string {
  if (typeof err !== "object" || err === null || !("code" in err)) return "";
  const code = (err as { code: unknown }).code;
  return typeof code === "string" ? code : "";
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === "") {
    return err.errors.map((e) => messageOf(e)).join("; ");
  }
  return err instanceof Error ? err.message : String(err);
}

/** True when `err` says the database could not be reached, as opposed to a refusal of a statement. */
export function isConnectionFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (SOCKET_CODES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return isConnectionState(code);
  return err instanceof Error && CLIENT_MESSAGES.test(err.message);
}

/**
 * True when a connection that was fine when checked out turned out dead (the server terminated it
 * while it sat idle in the pool): a fresh connection may well work. Timeouts are not stale.
 */
export function isStaleConnection(err: unknown): boolean {
  const code = codeOf(err);
  if (code === "57P01" || code === "57P02" || code === "ECONNRESET" || code === "EPIPE") return true;
  return err instanceof Error && /Connection terminated unexpectedly|not queryable/i.test(err.message);
}

/**
 * True when the server answered `err` on a connection that stays usable (a statement error), so
 * the transaction can be rolled back on it; false when the connection is lost or in doubt.
 */
export function keepsConnection(err: unknown): boolean {
  const code = codeOf(err);
  return /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08") && !code.startsWith("57P");
}

/** What went wrong with the connection, for an operator. */
function connectionProblem(err: unknown): string {
  const code = codeOf(err);
  const message = messageOf(err);
  if (code === "ECONNREFUSED") return `connection refused (${message})`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `its host name does not resolve (${message})`;
  if (code === "57P01") return `the server terminated the connection (${message})`;
  if (code === "57014") return `a statement did not finish in time (${message})`;
  if (/timeout/i.test(message)) return `no answer in time (${message})`;
  return message === "" ? code : message;
}

/**
 * Maps `err` to a `StewardError` naming `location`; a `StewardError` passes through unchanged.
 *
 * @param connecting the failure came while opening a connection: whatever the server said (it does
 *   not accept connections, the database is missing, authentication failed), the store is out of reach.
 */
export function toPgStoreError(
  err: unknown,
  location: string,
  action: PgAction,
  connecting = false,
): StewardError {
  if (err instanceof StewardError) return err;
  const operation = action.kind === "write" ? action.operation : action.kind;
  if (connecting || isConnectionFailure(err)) {
    return new StoreUnreachableError(location, operation, connectionProblem(err), err);
  }
  const code = codeOf(err);
  const message = messageOf(err);
  let problem = message;
  if (code.startsWith("23") || code.startsWith("22")) problem = `a record was refused (${message})`;
  else if (code === "42P01") problem = `a table is missing (${message}); was the schema changed by hand?`;
  switch (action.kind) {
    case "open":
      return new StoreOpenError(location, problem, err);
    case "read":
      return new StoreReadError(location, problem, err);
    case "write":
      return new StoreWriteError(location, action.operation, problem, action.at, err);
  }
}
