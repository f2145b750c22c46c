import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";

import {
  StoreCorruptError,
  StoreOpenError,
  StoreSchemaError,
  StoreWriteError,
} from "../../src/store/errors.js";
import {
  assertWellFormed,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
} from "../../src/store/migrations/index.js";
import { appliedVersions, migrateSqlite } from "../../src/store/sqlite/migrate.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { jobRunToRow, maintenanceToRow } from "../../src/store/rows.js";
import {
  daemonRecord,
  fullJobRunRecord,
  fullPatchApplicationRecord,
  fullPatchSessionRecord,
  fullReplicaRecord,
  jobRunRecord,
  maintenanceRecord,
  patchApplicationRecord,
  patchEditionRecord,
  patchSessionRecord,
  replicaRecord,
  stateStoreContract,
} from "./contract.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

stateStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "steward-store-"));
  const path = join(dir, "home", "state.db");
  const opened: StateStore[] = [];
  const open = (): StateStore => {
    const store = SqliteStore.open(path);
    opened.push(store);
    return store;
  };
  return {
    store: open(),
    reopen: async () => open(),
    cleanup: async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqliteStore", () => {
  let dir: string;
  let path: string;
  const stores: SqliteStore[] = [];
  const open = (p: string = path): SqliteStore => {
    const store = SqliteStore.open(p);
    stores.push(store);
    return store;
  };
  /** A second, raw connection to inspect what the store wrote. */
  const raw = (p: string = path): Database.Database => new Database(p);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "steward-sqlite-"));
    path = join(dir, "home", "state.db");
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("opening", () => {
    it("sets WAL, synchronous=FULL, busy_timeout and foreign_keys on its connection", () => {
      const store = open();
      expect(store.settings()).toStrictEqual({
        journalMode: "wal",
        synchronous: "FULL",
        foreignKeys: true,
        busyTimeoutMs: 5000,
      });
      const db = raw();
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal"); // WAL is a property of the file
      db.close();
    });

    it("creates its missing directory with mode 0700 and resolves a relative path", () => {
      const store = open(join(dir, "a", "b", "state.db"));
      expect(statSync(join(dir, "a", "b")).mode & 0o777).toBe(0o700);
      expect(store.location).toBe(join(dir, "a", "b", "state.db"));
      const relative = open(join("..", ...Array(10).fill(".."), dir, "rel.db"));
      expect(relative.location).toBe(join(dir, "rel.db"));
    });

    it("records each migration once, however often the store is reopened", async () => {
      await open().close();
      await open().close();
      await open().close();
      const db = raw();
      expect(db.prepare("SELECT version, name FROM schema_migrations").all()).toStrictEqual([
        { version: 1, name: "initial" },
        { version: 2, name: "operations" },
        { version: 3, name: "daemon_handover" },
        { version: 4, name: "jobs" },
        { version: 5, name: "patching" },
        { version: 6, name: "tokens" },
      ]);
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toStrictEqual([
        "components",
        "daemon",
        "job_runs",
        "maintenance",
        "operation_steps",
        "operations",
        "patch_applications",
        "patch_editions",
        "patch_sessions",
        "replicas",
        "schema_migrations",
        "tokens",
      ]);
      db.close();
    });

    it("opens a throw-away store for `:memory:`", async () => {
      const store = open(":memory:");
      expect(store.settings().journalMode).toBe("memory");
      await store.commit({ replicas: [fullReplicaRecord()] });
      expect(await store.listReplicas()).toStrictEqual([fullReplicaRecord()]);
    });

    it("keeps records across close and reopen, and survives a second connection writing", async () => {
      const first = open();
      await first.commit({ daemon: daemonRecord(), replicas: [fullReplicaRecord()] });
      const second = open(); // two connections on one WAL file
      await second.commit({ replicas: [replicaRecord({ index: 1 })] });
      expect((await first.listReplicas()).map((r) => r.index)).toStrictEqual([0, 1]);
      await first.close();
      await second.close();
      const third = open();
      expect(await third.readDaemon()).toStrictEqual(daemonRecord());
      expect(await third.listReplicas()).toStrictEqual([fullReplicaRecord(), replicaRecord({ index: 1 })]);
    });
  });

  describe("clear errors for a bad file", () => {
    it("a non-SQLite file: STW-2001 naming the file and what to do, file left untouched", () => {
      mkdirSync(dirname(path), { recursive: true });
      const garbage = "this is a text file, not a database\n".repeat(200);
      writeFileSync(path, garbage);
      let failure: unknown;
      try {
        open();
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(StoreCorruptError);
      const err = failure as StoreCorruptError;
      expect(err.code).toBe("STW-2001");
      expect(err.message).toContain(`state store ${path} is not a SQLite database`);
      expect(err.message).toContain(`mv '${path}' '${path}.corrupt'`);
      expect(err.message).not.toMatch(/SqliteError|SQLITE_/);
      expect(err.details).toStrictEqual({ location: path, problem: "is not a SQLite database" });
      expect((err.cause as { code?: string }).code).toBe("SQLITE_NOTADB");
      expect(readFileSync(path, "utf8")).toBe(garbage);
    });

    it("a damaged SQLite file: STW-2001 saying it is damaged", async () => {
      await open().close();
      const bytes = readFileSync(path);
      bytes.fill(0xa5, 100, 4096); // page 1 after the header: the schema
      writeFileSync(path, bytes);
      expect(() => open()).toThrow(StoreCorruptError);
      expect(() => open()).toThrow(/is damaged \(database disk image is malformed\)/);
    });

    it("a directory in the way: STW-2002", () => {
      mkdirSync(path, { recursive: true });
      expect(() => open()).toThrow(StoreOpenError);
      expect(() => open()).toThrow(`cannot open state store ${path}: unable to open database file; check`);
    });

    it("a file where its directory should be: STW-2002", () => {
      writeFileSync(join(dir, "home"), "");
      expect(() => open()).toThrow(StoreOpenError);
      expect(() => open(join(dir, "home", "deeper", "state.db"))).toThrow(/is a file, not a directory/);
      expect(() => open()).toThrow(
        `cannot open state store ${path}: ${join(dir, "home")} (or a parent) is a file, not a directory`,
      );
    });

    it("an unreadable last exit: STW-2001 naming the replica", async () => {
      const store = open();
      await store.commit({ replicas: [fullReplicaRecord({ component: "engine", index: 3 })] });
      const db = raw();
      db.prepare("UPDATE replicas SET last_exit = '{\"exitCode\": 1'").run();
      db.close();
      await expect(store.listReplicas()).rejects.toThrow(StoreCorruptError);
      await expect(store.listReplicas()).rejects.toThrow(/unreadable last exit for replica engine\[3\]/);
    });

    it("an unreadable maintenance record: STW-2001 naming it", async () => {
      const store = open();
      await store.commit({ maintenance: maintenanceRecord() });
      const db = raw();
      db.prepare("UPDATE maintenance SET components = '[\"web\"'").run();
      db.close();
      await expect(store.readMaintenance()).rejects.toThrow(StoreCorruptError);
      await expect(store.readMaintenance()).rejects.toThrow(
        /holds an unreadable maintenance record \(components are not JSON \(.*\): \["web"\)/,
      );
    });
  });

  describe("unreadable patch records", () => {
    it("a session whose phases or plan do not parse: STW-2001 naming the session, for a list and a read", async () => {
      const store = open();
      await store.commit({
        patchSessions: [fullPatchSessionRecord({ id: 3 }), patchSessionRecord({ id: 1 })],
      });
      const db = raw();
      db.prepare(`UPDATE patch_sessions SET plan = '{"components": 3, "computedAt": 1}' WHERE id = 3`).run();
      db.prepare(`UPDATE patch_sessions SET phases = '{"apply":' WHERE id = 1`).run();
      db.close();
      await expect(store.readPatchSession(3, "web-1")).rejects.toThrow(StoreCorruptError);
      await expect(store.readPatchSession(3, "web-1")).rejects.toThrow(
        `state store ${path} holds an unreadable patch session 3 on web-1 ` +
          `(plan is not a cutover plan: {"components": 3, "computedAt": 1})`,
      );
      await expect(store.readPatchSession(1, "web-1")).rejects.toThrow(
        /holds an unreadable patch session 1 on web-1 \(phases: not JSON \(.*\): \{"apply":\)/,
      );
      await expect(store.listPatchSessions()).rejects.toThrow(StoreCorruptError);
    });

    it("an edition whose patches are not a list of ids: STW-2001 naming the edition", async () => {
      const store = open();
      await store.commit({ patchEditions: [patchEditionRecord()] });
      const db = raw();
      db.prepare(`UPDATE patch_editions SET patches = '{"P-100": true}'`).run();
      db.close();
      await expect(store.listPatchEditions()).rejects.toThrow(StoreCorruptError);
      await expect(store.listPatchEditions("web-1")).rejects.toThrow(
        `holds an unreadable patch edition fs2 on web-1 (patches are not a list of names: {"P-100": true})`,
      );
    });
  });

  describe("rows", () => {
    it("store booleans as 0/1, the last exit as JSON text and absent values as NULL", async () => {
      const store = open();
      const full = fullReplicaRecord();
      await store.commit({
        replicas: [full, replicaRecord({ index: 1, pid: undefined as unknown as null })],
      });
      const db = raw();
      const rows = db.prepare("SELECT * FROM replicas ORDER BY replica_index").all() as Record<
        string,
        unknown
      >[];
      db.close();
      expect(rows[0]).toMatchObject({ invalidated: 1, start_time: full.startTime, port: 65_535 });
      expect(JSON.parse(rows[0]?.last_exit as string)).toStrictEqual(full.lastExit);
      expect(rows[1]).toMatchObject({ invalidated: 0, last_exit: null, pid: null, reason: null });
    });

    it("store a job run's absent values as NULL and the maintenance lists as JSON text", async () => {
      const store = open();
      const full = fullJobRunRecord({ id: "run-full" });
      await store.commit({
        jobRuns: [full, jobRunRecord({ id: "run-bare", pid: undefined as unknown as null })],
        maintenance: maintenanceRecord(),
      });
      const db = raw();
      const runs = db.prepare("SELECT * FROM job_runs ORDER BY id").all() as Record<string, unknown>[];
      const maintenance = db.prepare("SELECT * FROM maintenance").all();
      db.close();
      expect(runs[0]).toMatchObject({ id: "run-bare", pid: null, exit_code: null, signal: null });
      expect(runs[1]).toMatchObject({ id: "run-full", start_time: full.startTime, exit_code: 143 });
      expect(maintenance).toStrictEqual([
        {
          id: 1,
          components: '["web","engine"]',
          paused_schedules: '["backup","report-nightly"]',
          started_at: maintenanceRecord().startedAt,
          updated_at: maintenanceRecord().updatedAt,
        },
      ]);
    });

    it("store patch records' flags as 0/1, phases, plan and patch lists as JSON text, no plan as `null`", async () => {
      const store = open();
      const full = fullPatchSessionRecord({ id: 2 });
      await store.commit({
        patchSessions: [patchSessionRecord(), full],
        patchApplications: [patchApplicationRecord(), fullPatchApplicationRecord({ patchId: "P-101" })],
        patchEditions: [patchEditionRecord({ needsResync: true })],
      });
      const db = raw();
      const sessions = db.prepare("SELECT * FROM patch_sessions ORDER BY id").all() as Record<
        string,
        unknown
      >[];
      const applications = db
        .prepare("SELECT patch_id, errors_tolerated, detail FROM patch_applications ORDER BY patch_id")
        .all();
      const editions = db.prepare("SELECT * FROM patch_editions").all();
      db.close();
      expect(sessions[0]).toMatchObject({ phases: "{}", plan: "null", reason: null, finished_at: null });
      expect(JSON.parse(sessions[1]?.phases as string)).toStrictEqual(full.phases);
      expect(Object.keys(JSON.parse(sessions[1]?.phases as string) as object)).toStrictEqual([
        "prepare",
        "apply",
        "finalize",
        "cutover",
      ]);
      expect(JSON.parse(sessions[1]?.plan as string)).toStrictEqual(full.plan);
      expect(applications).toStrictEqual([
        { patch_id: "P-100", errors_tolerated: 0, detail: null },
        { patch_id: "P-101", errors_tolerated: 1, detail: fullPatchApplicationRecord().detail },
      ]);
      expect(editions).toStrictEqual([
        {
          node: "web-1",
          edition: "fs2",
          patches: '["P-100","P-101"]',
          needs_resync: 1,
          updated_at: patchEditionRecord().updatedAt,
        },
      ]);
    });

    it("a refused patch session is named in the error, with the constraint", async () => {
      const store = open();
      const bad = { ...patchSessionRecord({ id: 7 }), status: "closed" } as unknown as ReturnType<
        typeof patchSessionRecord
      >;
      const failure = await store
        .commit({ patchSessions: [patchSessionRecord(), bad] })
        .catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreWriteError);
      expect((failure as Error).message).toBe(
        `commit on state store ${path} failed at patch session 7 on web-1: a record was refused ` +
          `(CHECK constraint failed: status IN ('open', 'cutover-rolled-back', 'completed', 'aborted')); ` +
          `the transaction was rolled back, nothing of it was written`,
      );
      expect(await store.listPatchSessions()).toStrictEqual([]);
    });

    it("a refused record is named in the error, with the constraint", async () => {
      const store = open();
      const bad = {
        ...replicaRecord({ component: "engine", index: 3 }),
        state: null,
      } as unknown as ReturnType<typeof replicaRecord>;
      const failure = await store.commit({ replicas: [replicaRecord(), bad] }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreWriteError);
      expect((failure as Error).message).toBe(
        `commit on state store ${path} failed at replica engine[3]: a record was refused ` +
          `(NOT NULL constraint failed: replicas.state); the transaction was rolled back, nothing of it was written`,
      );
      expect(await store.listReplicas()).toStrictEqual([]);
    });
  });

  describe("migrations", () => {
    const ok: Migration = { version: 1, name: "make_a", sql: "CREATE TABLE a (x INTEGER)" };
    const bad: Migration = { version: 2, name: "broken", sql: "CREATE TABLE b (x INTEGER); THIS IS NOT SQL" };

    it("are numbered 1..n with snake_case names", () => {
      expect(() => assertWellFormed(MIGRATIONS)).not.toThrow();
      expect(LATEST_VERSION).toBe(MIGRATIONS.length);
      expect(() => assertWellFormed([ok, { ...bad, version: 3 }])).toThrow(/versions must run 1..n/);
      expect(() => assertWellFormed([{ ...ok, name: "Make A" }])).toThrow(/snake_case/);
    });

    it("that fail leave nothing applied, not even the earlier ones of the same run", () => {
      mkdirSync(dirname(path), { recursive: true });
      const db = raw();
      expect(() => migrateSqlite(db, path, [ok, bad])).toThrow(/syntax error/);
      expect(appliedVersions(db)).toStrictEqual([]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toStrictEqual(
        [],
      );
      expect(migrateSqlite(db, path, [ok])).toStrictEqual([1]);
      expect(migrateSqlite(db, path, [ok])).toStrictEqual([]);
      expect(appliedVersions(db)).toStrictEqual([1]);
      db.close();
    });

    it("bring a version-4 store to version 5, keeping its records, with empty, usable patch tables", async () => {
      mkdirSync(dirname(path), { recursive: true });
      const db = raw();
      expect(migrateSqlite(db, path, MIGRATIONS.slice(0, 4))).toStrictEqual([1, 2, 3, 4]);
      const insert = (table: string, row: object, extra: Record<string, unknown> = {}): void => {
        const values = { ...extra, ...row };
        const columns = Object.keys(values);
        db.prepare(
          `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`,
        ).run(values);
      };
      insert("job_runs", jobRunToRow(fullJobRunRecord()));
      insert("maintenance", maintenanceToRow(maintenanceRecord()), { id: 1 });
      const tables = () =>
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'patch%'")
          .pluck()
          .all();
      expect(tables()).toStrictEqual([]);
      db.close();

      const store = open();
      expect(await store.listJobRuns()).toStrictEqual([fullJobRunRecord()]);
      expect(await store.readMaintenance()).toStrictEqual(maintenanceRecord());
      expect(await store.listPatchSessions()).toStrictEqual([]);
      expect(await store.listPatchApplications()).toStrictEqual([]);
      expect(await store.listPatchEditions()).toStrictEqual([]);
      await store.commit({
        patchSessions: [fullPatchSessionRecord()],
        patchApplications: [fullPatchApplicationRecord()],
        patchEditions: [patchEditionRecord()],
      });
      expect(await store.readPatchSession(1, "web-1")).toStrictEqual(fullPatchSessionRecord());
      expect(await store.listPatchApplications({ session: 1 })).toStrictEqual([fullPatchApplicationRecord()]);
      expect(await store.listPatchEditions("web-1")).toStrictEqual([patchEditionRecord()]);

      const after = raw();
      expect(appliedVersions(after)).toStrictEqual(MIGRATIONS.map((m) => m.version));
      after.close();
    });

    it("refuse a store migrated by a newer Steward: STW-2003", async () => {
      await open().close();
      const db = raw();
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(
        LATEST_VERSION + 1,
      );
      db.close();
      expect(() => open()).toThrow(StoreSchemaError);
      expect(() => open()).toThrow(
        `state store ${path} has schema version ${LATEST_VERSION + 1}, newer than this Steward knows (${LATEST_VERSION})`,
      );
    });
  });

  describe("durability", () => {
    it("keeps every commit that resolved before the committing process was SIGKILLed", async () => {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, "node_modules/vite-node/vite-node.mjs"),
          join(ROOT, "test/store/fixtures/commit-child.ts"),
        ],
        { cwd: ROOT, env: { ...process.env, STORE_PATH: path }, stdio: ["ignore", "pipe", "pipe"] },
      );
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      });
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve_) =>
        child.on("exit", (_code, signal) => resolve_(signal)),
      );
      await new Promise<void>((resolve_, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          // kill while the child keeps committing, right after commit #30 resolved
          if (/^30$/m.test(stdout)) {
            child.kill("SIGKILL");
            resolve_();
          }
        });
        child.on("exit", () => reject(new Error(`child exited before committing: ${stderr}`)));
      });
      expect(await exited).toBe("SIGKILL");

      const printed = stdout
        .split("\n")
        .filter((line) => /^\d+$/.test(line))
        .map(Number);
      expect(printed.length).toBeGreaterThanOrEqual(31);
      const store = open();
      expect(await store.readDaemon()).toMatchObject({ state: "active", pid: child.pid });
      const stored = new Set((await store.listReplicas()).map((r) => r.index));
      expect(printed.filter((i) => !stored.has(i))).toStrictEqual([]);
    });
  });
});
