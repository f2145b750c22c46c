/**
 * @module store/postgres/postgres-store
 * The PostgreSQL **store** (design §4), selected with `store: postgres://user@host:5432/db`: the same
 * tables and statements as SQLite (compiled by kysely for PostgreSQL), on a small `pg` pool. Every
 * batch is one transaction on one connection; a commit resolves once PostgreSQL acknowledged the
 * COMMIT, i.e. durable as the server's `synchronous_commit` says (by default: WAL flushed).
 *
 * A database that cannot be reached fails with `StoreUnreachableError` (STW-2007), which the state
 * writer retries; a record the database refuses fails with `StoreWriteError` (STW-2005).
 */
import type pg from "pg";

import { IllegalStateError } from "../../errors.js";
import { StoreCorruptError, StoreOpenError } from "../errors.js";
import type {
  ComponentRecord,
  DaemonRecord,
  JobRunRecord,
  MaintenanceRecord,
  OperationRecord,
  OperationStatus,
  OperationStepRecord,
  PatchApplicationRecord,
  PatchEditionRecord,
  PatchSessionRecord,
  ReplicaRecord,
  StateBatch,
  TokenRecord,
} from "../records.js";
import {
  rowToComponent,
  rowToDaemon,
  rowToJobRun,
  rowToMaintenance,
  rowToOperation,
  rowToPatchApplication,
  rowToPatchEdition,
  rowToPatchSession,
  rowToReplica,
  rowToStep,
  rowToToken,
} from "../rows.js";
import {
  DEFAULT_JOB_RUNS_LIMIT,
  DEFAULT_PATCH_SESSIONS_LIMIT,
  JOB_RUNS_KEPT,
  jobRunsLimit,
  patchSessionId,
  patchSessionsLimit,
} from "../limits.js";
import type { PatchSessionRow } from "../schema.js";
import type { StateStore } from "../state-store.js";
import { createSchema, migratePostgres } from "./migrate.js";
import { batchWrites } from "../batch-writes.js";
import { isStaleConnection, keepsConnection, toPgStoreError, type PgAction } from "./pg-errors.js";
import { pgStatements, type PgStatements } from "./pg-queries.js";
import { createPool, DEFAULT_POOL_SETTINGS, redactUrl, type PgPoolSettings } from "./pool.js";

/** A connection lost mid-way is retried on a fresh one this many times (stale pooled connections). */
const STALE_RETRIES = DEFAULT_POOL_SETTINGS.max;

/**
 * A `StateStore` in a PostgreSQL database.
 *
 * @example
 * const store = await PostgresStore.open("postgres://steward@db:5432/shop");
 * await store.commit({ daemon, replicas: [replica] }); // one transaction
 * await store.close();
 */
export class PostgresStore implements StateStore {
  readonly kind = "postgres" as const;
  /** The URL without its password. */
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #stmts: PgStatements = pgStatements();
  #closed = false;

  private constructor(pool: pg.Pool, location: string) {
    this.#pool = pool;
    this.location = location;
  }

  /**
   * Connects to `url` and runs pending migrations under the migration advisory lock; with
   * `settings.schema`, in that schema (created if need be), which is then the only one it uses.
   *
   * @throws StoreUnreachableError (STW-2007) when the database cannot be reached.
   * @throws StoreSchemaError (STW-2003) when a newer Steward has migrated it.
   * @throws StoreOpenError (STW-2002) for a URL that does not parse or a migration that fails.
   */
  static async open(url: string, settings: Partial<PgPoolSettings> = {}): Promise<PostgresStore> {
    const location = redactUrl(url);
    if (!URL.canParse(url)) {
      throw new StoreOpenError(location, "the URL does not parse; expected postgres://user@host:5432/db");
    }
    const pool = createPool(url, { ...DEFAULT_POOL_SETTINGS, ...settings });
    try {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw toPgStoreError(err, location, { kind: "open" }, true);
      }
      let lost: unknown;
      try {
        if (settings.schema !== undefined) await createSchema(client, settings.schema);
        await migratePostgres(client, location);
      } catch (err) {
        lost = keepsConnection(err) ? undefined : err;
        throw toPgStoreError(err, location, { kind: "open" });
      } finally {
        client.release(lost as Error | undefined);
      }
      return new PostgresStore(pool, location);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  async readDaemon(): Promise<DaemonRecord | undefined> {
    const rows = await this.#read((c) => this.#stmts.selectDaemon.rows(c, {}));
    return rows[0] === undefined ? undefined : rowToDaemon(rows[0]);
  }

  async listComponents(): Promise<ComponentRecord[]> {
    return (await this.#read((c) => this.#stmts.selectComponents.rows(c, {}))).map(rowToComponent);
  }

  /** Ordered by component name in code-point order (`COLLATE "C"`), then by index. */
  async listReplicas(): Promise<ReplicaRecord[]> {
    const rows = await this.#read((c) => this.#stmts.selectReplicas.rows(c, {}));
    return rows.map((row) => {
      try {
        return rowToReplica(row);
      } catch (err) {
        const what = `${row.component}[${row.replica_index}]`;
        throw new StoreCorruptError(
          this.location,
          `holds an unreadable last exit for replica ${what} (${(err as Error).message})`,
          err,
        );
      }
    });
  }

  async listOperations(status?: OperationStatus): Promise<OperationRecord[]> {
    const rows = await this.#read((c) =>
      status === undefined
        ? this.#stmts.selectOperations.rows(c, {})
        : this.#stmts.selectOperationsIn.rows(c, { status }),
    );
    return rows.map((row) => {
      try {
        return rowToOperation(row);
      } catch (err) {
        throw new StoreCorruptError(
          this.location,
          `holds an unreadable operation ${row.id} (${(err as Error).message})`,
          err,
        );
      }
    });
  }

  async listSteps(operationId: string): Promise<OperationStepRecord[]> {
    return (await this.#read((c) => this.#stmts.selectSteps.rows(c, { operation_id: operationId }))).map(
      rowToStep,
    );
  }

  /**
   * Newest first (by `startedAt`, then `id` in code-point order), at most `limit`.
   *
   * @throws BadRequestError (STW-1006) when `limit` is not a whole number ≥ 0.
   */
  async listJobRuns(job?: string, limit = DEFAULT_JOB_RUNS_LIMIT): Promise<JobRunRecord[]> {
    const max = jobRunsLimit(limit);
    const rows = await this.#read((c) =>
      job === undefined
        ? this.#stmts.selectJobRuns.rows(c, { limit: max })
        : this.#stmts.selectJobRunsOf.rows(c, { job, limit: max }),
    );
    return rows.map(rowToJobRun);
  }

  /** Oldest first (by `startedAt`, then `id` in code-point order). */
  async listRunningJobRuns(): Promise<JobRunRecord[]> {
    return (await this.#read((c) => this.#stmts.selectRunningJobRuns.rows(c, {}))).map(rowToJobRun);
  }

  async readMaintenance(): Promise<MaintenanceRecord | undefined> {
    const rows = await this.#read((c) => this.#stmts.selectMaintenance.rows(c, {}));
    if (rows[0] === undefined) return undefined;
    try {
      return rowToMaintenance(rows[0]);
    } catch (err) {
      throw new StoreCorruptError(
        this.location,
        `holds an unreadable maintenance record (${(err as Error).message})`,
        err,
      );
    }
  }

  /**
   * Newest first (by `id` descending, then node in code-point order), at most `limit`.
   *
   * @throws BadRequestError (STW-1006) when `limit` is not a whole number ≥ 0.
   * @throws StoreCorruptError (STW-2001) naming a session whose phases or plan cannot be read.
   */
  async listPatchSessions(limit = DEFAULT_PATCH_SESSIONS_LIMIT): Promise<PatchSessionRecord[]> {
    const max = patchSessionsLimit(limit);
    const rows = await this.#read((c) => this.#stmts.selectPatchSessions.rows(c, { limit: max }));
    return rows.map((row) => this.#patchSession(row));
  }

  /** @throws BadRequestError (STW-1006) when `id` is not a whole number ≥ 1. */
  async readPatchSession(id: number, node: string): Promise<PatchSessionRecord | undefined> {
    const key = { id: patchSessionId(id), node };
    const rows = await this.#read((c) => this.#stmts.selectPatchSession.rows(c, key));
    return rows[0] === undefined ? undefined : this.#patchSession(rows[0]);
  }

  /** By session, then `seq` (then node and patch id in code-point order). */
  async listPatchApplications(
    filter: { session?: number; node?: string } = {},
  ): Promise<PatchApplicationRecord[]> {
    const { node } = filter;
    const session = filter.session === undefined ? undefined : patchSessionId(filter.session);
    const s = this.#stmts;
    const rows = await this.#read((c) =>
      session === undefined
        ? node === undefined
          ? s.selectPatchApplications.rows(c, {})
          : s.selectPatchApplicationsOn.rows(c, { node })
        : node === undefined
          ? s.selectPatchApplicationsIn.rows(c, { session })
          : s.selectPatchApplicationsInOn.rows(c, { session, node }),
    );
    return rows.map(rowToPatchApplication);
  }

  /** By node, then edition (code-point order). */
  /** Every API token, by name. */
  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#read((c) => this.#stmts.selectTokens.rows(c, {}))).map(rowToToken);
  }

  async listPatchEditions(node?: string): Promise<PatchEditionRecord[]> {
    const rows = await this.#read((c) =>
      node === undefined
        ? this.#stmts.selectPatchEditions.rows(c, {})
        : this.#stmts.selectPatchEditionsOn.rows(c, { node }),
    );
    return rows.map((row) => {
      try {
        return rowToPatchEdition(row);
      } catch (err) {
        throw new StoreCorruptError(
          this.location,
          `holds an unreadable patch edition ${row.edition} on ${row.node} (${(err as Error).message})`,
          err,
        );
      }
    });
  }

  /**
   * Applies `batch` in one transaction, in the same order as SQLite: daemon, components, replicas,
   * `deleteReplicas`, operations, steps, job runs, patch sessions, patch applications, patch
   * editions, the maintenance record (deleted when `null`).
   * When any record is refused, nothing of the batch is written.
   * Every statement is an upsert or a delete by key, so a batch whose COMMIT was lost can run again.
   *
   * @throws StoreWriteError (STW-2005) naming the record that was refused.
   * @throws StoreUnreachableError (STW-2007) when the database cannot be reached.
   */
  async commit(batch: StateBatch): Promise<void> {
    const writes = batchWrites(batch);
    this.#assertOpen();
    if (writes.length === 0) return;
    const s = this.#stmts as unknown as Record<
      string,
      { rows(c: pg.ClientBase, values: object): Promise<unknown> }
    >;
    await this.#transaction("commit", async (c, writing) => {
      for (const w of writes) {
        writing(w.what);
        await s[w.query]!.rows(c, w.row());
      }
    });
  }

  /**
   * Deletes every component and replica record, the steps of finished operations, finished
   * operations beyond the newest `keepOperations` and each job's finished runs beyond its newest 100,
   * in one transaction; the daemon and maintenance records, running operations, running job runs and
   * every patch session, application and edition (history) stay.
   */
  async clearVolatile(keepOperations = 100): Promise<void> {
    this.#assertOpen();
    const s = this.#stmts;
    await this.#transaction("clearVolatile", async (c) => {
      await s.deleteAllReplicas.rows(c, {});
      await s.deleteAllComponents.rows(c, {});
      await s.deleteFinishedSteps.rows(c, {});
      await s.deleteOldOperations.rows(c, { keep: keepOperations });
      await s.deleteOldJobRuns.rows(c, { keep: JOB_RUNS_KEPT });
    });
  }

  /** Closes every connection of the pool. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #patchSession(row: PatchSessionRow): PatchSessionRecord {
    try {
      return rowToPatchSession(row);
    } catch (err) {
      throw new StoreCorruptError(
        this.location,
        `holds an unreadable patch session ${row.id} on ${row.node} (${(err as Error).message})`,
        err,
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new IllegalStateError(`state store ${this.location} is closed`, { location: this.location });
    }
  }

  async #read<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#withClient({ kind: "read" }, false, fn).catch((err: unknown) => {
      throw toPgStoreError(err, this.location, { kind: "read" });
    });
  }

  /** Runs `fn` between BEGIN and COMMIT; `writing` names the record for the error if one is refused. */
  async #transaction(
    operation: string,
    fn: (client: pg.ClientBase, writing: (what: string) => void) => Promise<void>,
  ): Promise<void> {
    let at: string | undefined;
    await this.#withClient({ kind: "write", operation }, true, async (client) => {
      await fn(client, (what) => (at = what));
      at = undefined; // a failing COMMIT is no record's fault
    }).catch((err: unknown) => {
      throw toPgStoreError(err, this.location, { kind: "write", operation, ...(at ? { at } : {}) });
    });
  }

  /**
   * Runs `fn` on a pooled connection, in a transaction when `transaction` is set (rolled back when
   * `fn` fails). A connection found dead once in use (the server terminated it while it sat idle in
   * the pool) is discarded and `fn` runs again on a fresh one, a few times at most. Failing to
   * connect at all is not retried here: the state writer backs off and retries.
   */
  async #withClient<T>(
    action: PgAction,
    transaction: boolean,
    fn: (client: pg.ClientBase) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw toPgStoreError(err, this.location, action, true);
      }
      // A checked-out connection has no pool listener: an 'error' between two statements must not crash us.
      const ignore = (): void => undefined;
      client.on("error", ignore);
      let discard: Error | undefined;
      try {
        if (transaction) await client.query("BEGIN");
        const result = await fn(client);
        if (transaction) await client.query("COMMIT");
        return result;
      } catch (err) {
        if (!keepsConnection(err)) discard = asError(err);
        else if (transaction) await client.query("ROLLBACK").catch((e: unknown) => (discard = asError(e)));
        if (isStaleConnection(err) && attempt < STALE_RETRIES && !this.#closed) continue;
        throw err;
      } finally {
        client.off("error", ignore);
        client.release(discard);
      }
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
