/**
 * @module store/sqlite/sqlite-store
 * The default **store** (design §4): state records in one SQLite file, by default
 * `<home>/state.db`. WAL journal with `synchronous=FULL`, so a commit is on disk (WAL fsynced)
 * before its promise resolves and survives a crash of the daemon or of the machine. Every batch is
 * one IMMEDIATE transaction. Statements are compiled by kysely (`./sqlite-queries.ts`) and prepared
 * once; better-sqlite3 runs them synchronously: the methods are async only to share the
 * `StateStore` interface with PostgreSQL.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";

import Database from "better-sqlite3";

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
  DEFAULT_JOB_RUNS_LIMIT,
  DEFAULT_PATCH_SESSIONS_LIMIT,
  JOB_RUNS_KEPT,
  jobRunsLimit,
  patchSessionId,
  patchSessionsLimit,
} from "../limits.js";
import type { PatchSessionRow } from "../schema.js";
import type { StateStore } from "../state-store.js";
import { migrateSqlite } from "./migrate.js";
import { prepareAll, type SqliteStatements } from "./prepare.js";
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
import { toStoreError } from "./sqlite-errors.js";
import { batchWrites } from "../batch-writes.js";
import { sqliteQueries } from "./sqlite-queries.js";

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The connection settings in force, as SQLite reports them (for diagnostics and tests). */
export interface SqliteSettings {
  /** `wal` for a file; `memory` for `:memory:`. */
  journalMode: string;
  /** `OFF`, `NORMAL`, `FULL` or `EXTRA`. */
  synchronous: string;
  foreignKeys: boolean;
  busyTimeoutMs: number;
}

const SYNCHRONOUS = ["OFF", "NORMAL", "FULL", "EXTRA"] as const;

/**
 * A `StateStore` in a SQLite file.
 *
 * @example
 * const store = SqliteStore.open("/srv/shop/.steward/state.db");
 * await store.commit({ daemon, replicas: [replica] }); // one transaction, fsynced
 * await store.close();
 */
export class SqliteStore implements StateStore {
  readonly kind = "sqlite" as const;
  readonly location: string;
  readonly #db: Database.Database;
  readonly #stmts: SqliteStatements;
  #closed = false;
  /** What the running commit was writing, for the error message when it fails. */
  #writing = "";

  private constructor(db: Database.Database, location: string) {
    this.#db = db;
    this.location = location;
    this.#stmts = prepareAll(db, sqliteQueries());
  }

  /**
   * Opens (creating if need be) the store at `path`: creates its directory (mode 0700), sets
   * `journal_mode=WAL`, `synchronous=FULL`, `busy_timeout` and `foreign_keys=ON`, and runs pending
   * migrations in one transaction. `":memory:"` opens a throw-away in-memory store (no WAL).
   *
   * @throws StoreCorruptError (STW-2001) when the file is not a SQLite database or is damaged.
   * @throws StoreOpenError (STW-2002) when it cannot be created or opened.
   * @throws StoreSchemaError (STW-2003) when a newer Steward has migrated it.
   */
  static open(path: string): SqliteStore {
    const memory = path === ":memory:";
    const location = memory ? path : resolve(path);
    if (!memory) {
      try {
        mkdirSync(dirname(location), { recursive: true, mode: 0o700 });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const problem =
          code === "EEXIST" || code === "ENOTDIR"
            ? `${dirname(location)} (or a parent) is a file, not a directory`
            : `cannot create its directory: ${(err as Error).message}`;
        throw new StoreOpenError(location, problem, err);
      }
    }
    const created = !memory && !existsSync(location);
    let db: Database.Database | undefined;
    try {
      db = new Database(location);
      const journalMode = String(db.pragma("journal_mode = WAL", { simple: true }));
      if (journalMode !== (memory ? "memory" : "wal")) {
        throw new StoreOpenError(
          location,
          `SQLite could not switch it to WAL journal mode (got \`${journalMode}\`); ` +
            `put the store on a local file system`,
        );
      }
      db.pragma("synchronous = FULL");
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma("foreign_keys = ON");
      migrateSqlite(db, location);
      const store = new SqliteStore(db, location);
      if (created) syncDirectory(dirname(location));
      return store;
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already failing; the original error is the one to report
      }
      throw toStoreError(err, location, { kind: "open" });
    }
  }

  async readDaemon(): Promise<DaemonRecord | undefined> {
    return this.#read(() => {
      const row = this.#stmts.selectDaemon.get({});
      return row === undefined ? undefined : rowToDaemon(row);
    });
  }

  async listComponents(): Promise<ComponentRecord[]> {
    return this.#read(() => this.#stmts.selectComponents.all({}).map(rowToComponent));
  }

  /** Ordered by component name (binary, i.e. code-point order), then by index. */
  async listReplicas(): Promise<ReplicaRecord[]> {
    return this.#read(() =>
      this.#stmts.selectReplicas.all({}).map((row) => {
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
      }),
    );
  }

  async listOperations(status?: OperationStatus): Promise<OperationRecord[]> {
    return this.#read(() => {
      const rows =
        status === undefined
          ? this.#stmts.selectOperations.all({})
          : this.#stmts.selectOperationsIn.all({ status });
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
    });
  }

  async listSteps(operationId: string): Promise<OperationStepRecord[]> {
    return this.#read(() => this.#stmts.selectSteps.all({ operation_id: operationId }).map(rowToStep));
  }

  /**
   * Newest first (by `startedAt`, then `id` in code-point order), at most `limit`.
   *
   * @throws BadRequestError (STW-1006) when `limit` is not a whole number ≥ 0.
   */
  async listJobRuns(job?: string, limit = DEFAULT_JOB_RUNS_LIMIT): Promise<JobRunRecord[]> {
    const max = jobRunsLimit(limit);
    return this.#read(() => {
      const rows =
        job === undefined
          ? this.#stmts.selectJobRuns.all({ limit: max })
          : this.#stmts.selectJobRunsOf.all({ job, limit: max });
      return rows.map(rowToJobRun);
    });
  }

  /** Oldest first (by `startedAt`, then `id` in code-point order). */
  async listRunningJobRuns(): Promise<JobRunRecord[]> {
    return this.#read(() => this.#stmts.selectRunningJobRuns.all({}).map(rowToJobRun));
  }

  async readMaintenance(): Promise<MaintenanceRecord | undefined> {
    return this.#read(() => {
      const row = this.#stmts.selectMaintenance.get({});
      if (row === undefined) return undefined;
      try {
        return rowToMaintenance(row);
      } catch (err) {
        throw new StoreCorruptError(
          this.location,
          `holds an unreadable maintenance record (${(err as Error).message})`,
          err,
        );
      }
    });
  }

  /**
   * Newest first (by `id` descending, then node in code-point order), at most `limit`.
   *
   * @throws BadRequestError (STW-1006) when `limit` is not a whole number ≥ 0.
   * @throws StoreCorruptError (STW-2001) naming a session whose phases or plan cannot be read.
   */
  async listPatchSessions(limit = DEFAULT_PATCH_SESSIONS_LIMIT): Promise<PatchSessionRecord[]> {
    const max = patchSessionsLimit(limit);
    return this.#read(() =>
      this.#stmts.selectPatchSessions.all({ limit: max }).map((row) => this.#patchSession(row)),
    );
  }

  /** @throws BadRequestError (STW-1006) when `id` is not a whole number ≥ 1. */
  async readPatchSession(id: number, node: string): Promise<PatchSessionRecord | undefined> {
    const key = { id: patchSessionId(id), node };
    return this.#read(() => {
      const row = this.#stmts.selectPatchSession.get(key);
      return row === undefined ? undefined : this.#patchSession(row);
    });
  }

  /** By session, then `seq` (then node and patch id in code-point order). */
  async listPatchApplications(
    filter: { session?: number; node?: string } = {},
  ): Promise<PatchApplicationRecord[]> {
    const { node } = filter;
    const session = filter.session === undefined ? undefined : patchSessionId(filter.session);
    return this.#read(() => {
      const s = this.#stmts;
      const rows =
        session === undefined
          ? node === undefined
            ? s.selectPatchApplications.all({})
            : s.selectPatchApplicationsOn.all({ node })
          : node === undefined
            ? s.selectPatchApplicationsIn.all({ session })
            : s.selectPatchApplicationsInOn.all({ session, node });
      return rows.map(rowToPatchApplication);
    });
  }

  /** By node, then edition (code-point order). */
  /** Every API token, by name. */
  async listTokens(): Promise<TokenRecord[]> {
    return this.#read(() => this.#stmts.selectTokens.all({}).map(rowToToken));
  }

  async listPatchEditions(node?: string): Promise<PatchEditionRecord[]> {
    return this.#read(() => {
      const rows =
        node === undefined
          ? this.#stmts.selectPatchEditions.all({})
          : this.#stmts.selectPatchEditionsOn.all({ node });
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
    });
  }

  /**
   * Applies `batch` in one transaction, in this order: daemon, components, replicas (upserts),
   * `deleteReplicas`, operations, steps, job runs, patch sessions, patch applications, patch
   * editions, then the maintenance record (written, or deleted when `null`). When any record is refused, nothing of the batch is written. An empty batch does
   * nothing.
   *
   * @throws StoreWriteError (STW-2005) naming the record that was refused.
   */
  async commit(batch: StateBatch): Promise<void> {
    const writes = batchWrites(batch);
    if (writes.length === 0) return;
    this.#write("commit", () => {
      const s = this.#stmts as unknown as Record<string, { run(values: object): void }>;
      this.#db
        .transaction(() => {
          for (const w of writes) {
            this.#writing = w.what;
            s[w.query]!.run(w.row());
          }
        })
        .immediate();
    });
  }

  /**
   * Deletes every component and replica record, the steps of finished operations, finished
   * operations beyond the newest `keepOperations` and each job's finished runs beyond its newest 100,
   * in one transaction; the daemon and maintenance records, running operations, running job runs and
   * every patch session, application and edition (history) stay.
   */
  async clearVolatile(keepOperations = 100): Promise<void> {
    this.#write("clearVolatile", () => {
      this.#db
        .transaction(() => {
          this.#stmts.deleteAllReplicas.run({});
          this.#stmts.deleteAllComponents.run({});
          this.#stmts.deleteFinishedSteps.run({});
          this.#stmts.deleteOldOperations.run({ keep: keepOperations });
          this.#stmts.deleteOldJobRuns.run({ keep: JOB_RUNS_KEPT });
        })
        .immediate();
    });
  }

  /** Closes the connection (checkpointing the WAL). Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** The connection settings in force, read back from SQLite. */
  settings(): SqliteSettings {
    this.#assertOpen();
    const sync = Number(this.#db.pragma("synchronous", { simple: true }));
    return {
      journalMode: String(this.#db.pragma("journal_mode", { simple: true })),
      synchronous: SYNCHRONOUS[sync] ?? String(sync),
      foreignKeys: Number(this.#db.pragma("foreign_keys", { simple: true })) === 1,
      busyTimeoutMs: Number(this.#db.pragma("busy_timeout", { simple: true })),
    };
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

  #read<T>(fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.location, { kind: "read" });
    }
  }

  #write(operation: string, fn: () => void): void {
    this.#assertOpen();
    this.#writing = "";
    try {
      fn();
    } catch (err) {
      const at = this.#writing === "" ? {} : { at: this.#writing };
      throw toStoreError(err, this.location, { kind: "write", operation, ...at });
    }
  }
}

/** fsync a directory so that a file just created in it survives a power loss. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
