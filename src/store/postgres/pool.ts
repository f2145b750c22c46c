/**
 * @module store/postgres/pool
 * The connection pool of the PostgreSQL store and its settings: small (the state writer commits one
 * batch at a time), with a connect timeout and statement timeouts so that nothing waits forever on
 * a database that stopped answering.
 */
import pg from "pg";

/** Connection settings, all in milliseconds except `max`. */
export interface PgPoolSettings {
  /** Connections at most. @default 4 */
  max: number;
  /** Give up opening a connection (or waiting for a free one) after this long. @default 5000 */
  connectTimeoutMs: number;
  /** The server cancels a statement running longer (`statement_timeout`). @default 10000 */
  statementTimeoutMs: number;
  /** The client gives up on an answer after this long, for a server that went silent. @default 15000 */
  queryTimeoutMs: number;
  /** An idle connection is closed after this long. @default 30000 */
  idleTimeoutMs: number;
  /**
   * The schema every statement works in (`search_path`), for a cluster node's own state records
   * (`steward_node_<name>`). @default the database's default search path
   */
  schema?: string;
}

export const DEFAULT_POOL_SETTINGS: Readonly<PgPoolSettings> = {
  max: 4,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 10_000,
  queryTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
};

/** BIGINT (OID 20) as a number: timestamps in ms and clock ticks are far below 2^53. */
const INT8_OID = 20;
export const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

/**
 * `url` without its password (in the user part or a `password=` parameter), for messages and
 * `StateStore.location`. A URL that does not parse is shown as `postgres://(unparsable URL)`.
 *
 * @example redactUrl("postgres://app:secret@db:5432/shop") // → "postgres://app@db:5432/shop"
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "postgres://(unparsable URL)";
  }
  u.password = "";
  u.searchParams.delete("password");
  return u.toString();
}

/** A pool on `url`. Errors of idle connections (the server closed them) are dropped with the connection. */
export function createPool(url: string, settings: PgPoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: settings.idleTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.queryTimeoutMs,
    idle_in_transaction_session_timeout: settings.queryTimeoutMs,
    keepAlive: true,
    application_name: "steward",
    types,
    // No JIT: our statements touch a few rows, but on fresh tables the planner's guess can pass
    // jit_above_cost and compiling takes 0.3 s. Unqualified names resolve in `schema` alone.
    options: `-c jit=off${settings.schema !== undefined ? ` -c search_path=${settings.schema}` : ""}`,
  });
  // Without a listener an idle connection's error (backend terminated) would crash the process; the
  // pool has already discarded that connection and the next checkout opens a new one.
  pool.on("error", () => undefined);
  return pool;
}
