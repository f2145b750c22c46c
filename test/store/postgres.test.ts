/**
 * The PostgreSQL store against the real server on 127.0.0.1:5432: the whole contract (one database
 * for the file, its tables truncated between cases), then what only PostgreSQL has: concurrent
 * migrations under the advisory lock, connection errors, terminated backends.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

import {
  StoreCorruptError,
  StoreOpenError,
  StoreSchemaError,
  StoreUnreachableError,
  StoreWriteError,
} from "../../src/store/errors.js";
import { LATEST_VERSION, MIGRATIONS, type Migration } from "../../src/store/migrations/index.js";
import { appliedVersions, migratePostgres } from "../../src/store/postgres/migrate.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { redactUrl } from "../../src/store/postgres/pool.js";
import { jobRunToRow } from "../../src/store/rows.js";
import type { StateStore } from "../../src/store/state-store.js";
import {
  daemonRecord,
  fullJobRunRecord,
  fullPatchApplicationRecord,
  fullPatchSessionRecord,
  fullReplicaRecord,
  maintenanceRecord,
  patchEditionRecord,
  patchSessionRecord,
  replicaRecord,
  stateStoreContract,
} from "./contract.js";
import { createDatabase, dropDatabase, pgAdmin, pgUrl, terminateBackends } from "./fixtures/postgres.js";

const TABLES =
  "daemon, components, replicas, operations, operation_steps, job_runs, maintenance, " +
  "patch_sessions, patch_applications, patch_editions, tokens";

let db = "";
/** Databases created by single tests, dropped at the end even when a test failed. */
const extra: string[] = [];

beforeAll(async () => {
  db = await createDatabase("contract", { icu: true });
});
afterAll(async () => {
  for (const name of [db, ...extra]) if (name !== "") await dropDatabase(name);
});

/** Versions recorded in database `name`. */
async function appliedVersionsOf(name: string): Promise<number[]> {
  const rows = await pgAdmin<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
    [],
    name,
  );
  return rows.map((r) => r.version);
}

async function freshDatabase(label: string): Promise<string> {
  const name = await createDatabase(label);
  extra.push(name);
  return name;
}

stateStoreContract("postgres", async () => {
  const opened: StateStore[] = [];
  const open = async (): Promise<StateStore> => {
    const store = await PostgresStore.open(pgUrl(db));
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
    },
  };
});

describe("PostgresStore", () => {
  const stores: StateStore[] = [];
  const open = async (url: string): Promise<PostgresStore> => {
    const store = await PostgresStore.open(url);
    stores.push(store);
    return store;
  };
  const closeAll = async (): Promise<void> => {
    for (const s of stores.splice(0)) await s.close();
  };

  describe("migrations", () => {
    it("run once when several daemons open the same fresh database at once", async () => {
      const name = await freshDatabase("concurrent");
      onTestFinished(closeAll);
      const opened = await Promise.all(Array.from({ length: 4 }, () => open(pgUrl(name))));
      expect(opened).toHaveLength(4);
      const rows = await pgAdmin("SELECT version, name FROM schema_migrations ORDER BY version", [], name);
      expect(rows).toStrictEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      await opened[0]!.commit({ daemon: daemonRecord() });
      expect(await opened[3]!.readDaemon()).toStrictEqual(daemonRecord());
    });

    it("refuse a database migrated by a newer Steward: STW-2003", async () => {
      const name = await freshDatabase("newer");
      await (await PostgresStore.open(pgUrl(name))).close();
      await pgAdmin(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)",
        [LATEST_VERSION + 1],
        name,
      );
      const failure = await PostgresStore.open(pgUrl(name)).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreSchemaError);
      expect((failure as Error).message).toBe(
        `state store ${pgUrl(name)} has schema version ${LATEST_VERSION + 1}, newer than this Steward knows ` +
          `(${LATEST_VERSION}); it was written by a newer Steward. Run that version, or point \`store:\` elsewhere.`,
      );
    });

    it("bring a version-4 database to version 5, keeping its records, with empty, usable patch tables", async () => {
      const name = await freshDatabase("from_v4");
      const client = new pg.Client({ connectionString: pgUrl(name) });
      await client.connect();
      try {
        expect(await migratePostgres(client, name, MIGRATIONS.slice(0, 4))).toStrictEqual([1, 2, 3, 4]);
        const row = jobRunToRow(fullJobRunRecord());
        const columns = Object.keys(row);
        await client.query(
          `INSERT INTO job_runs (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`,
          Object.values(row),
        );
        const tables = await client.query("SELECT to_regclass('patch_sessions') AS t");
        expect(tables.rows).toStrictEqual([{ t: null }]);
      } finally {
        await client.end();
      }

      onTestFinished(closeAll);
      const store = await open(pgUrl(name));
      expect(await appliedVersionsOf(name)).toStrictEqual(MIGRATIONS.map((m) => m.version));
      expect(await store.listJobRuns()).toStrictEqual([fullJobRunRecord()]);
      expect(await store.listPatchSessions()).toStrictEqual([]);
      expect(await store.listPatchApplications()).toStrictEqual([]);
      expect(await store.listPatchEditions()).toStrictEqual([]);
      await store.commit({
        patchSessions: [fullPatchSessionRecord()],
        patchApplications: [fullPatchApplicationRecord()],
        patchEditions: [patchEditionRecord()],
      });
      expect(await store.readPatchSession(1, "web-1")).toStrictEqual(fullPatchSessionRecord());
      expect(await store.listPatchApplications({ node: "web-1" })).toStrictEqual([
        fullPatchApplicationRecord(),
      ]);
      expect(await store.listPatchEditions("web-1")).toStrictEqual([patchEditionRecord()]);
    });

    it("that fail leave nothing applied, not even the earlier ones of the same run", async () => {
      const name = await freshDatabase("failing");
      const ok: Migration = { version: 1, name: "make_a", sql: "CREATE TABLE a (x INTEGER)" };
      const bad: Migration = { version: 2, name: "broken", sql: "CREATE TABLE b (x INTEGER); NOT SQL" };
      const client = new pg.Client({ connectionString: pgUrl(name) });
      await client.connect();
      onTestFinished(() => client.end());
      await expect(migratePostgres(client, name, [ok, bad])).rejects.toThrow(/syntax error/);
      expect(await appliedVersions(client)).toStrictEqual([]);
      const tables = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
      expect(tables.rows).toStrictEqual([]);
      expect(await migratePostgres(client, name, [ok])).toStrictEqual([1]);
      expect(await migratePostgres(client, name, [ok])).toStrictEqual([]);
      expect(await appliedVersions(client)).toStrictEqual([1]);
    });
  });

  describe("location and errors", () => {
    it("is the URL without its password", async () => {
      onTestFinished(closeAll);
      const store = await open(
        `postgres://postgres:secret@${pgUrl(db).slice("postgres://postgres@".length)}`,
      );
      expect(store.location).toBe(pgUrl(db));
      expect(redactUrl("postgres://app:secret@db:5432/shop?password=other&sslmode=require")).toBe(
        "postgres://app@db:5432/shop?sslmode=require",
      );
    });

    it("a server that is not there: STW-2007 naming the database and saying what happened", async () => {
      const url = "postgres://postgres:secret@127.0.0.1:1/nowhere";
      const failure = await PostgresStore.open(url).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreUnreachableError);
      const err = failure as StoreUnreachableError;
      expect(err.code).toBe("STW-2007");
      expect(err.message).toMatch(
        /^state store postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere is unreachable \(open\): connection refused \(.*ECONNREFUSED.*\); Steward cannot start/,
      );
      expect(JSON.stringify(err.toJSON())).not.toContain("secret");
    });

    it("a URL that does not parse: STW-2002", async () => {
      await expect(PostgresStore.open("postgres://a b")).rejects.toBeInstanceOf(StoreOpenError);
    });

    it("a refused record is named in the error, with PostgreSQL's reason", async () => {
      onTestFinished(async () => {
        await closeAll();
        await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
      });
      const store = await open(pgUrl(db));
      const bad = {
        ...replicaRecord({ component: "engine", index: 3 }),
        state: null,
      } as unknown as ReturnType<typeof replicaRecord>;
      const failure = await store.commit({ replicas: [replicaRecord(), bad] }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreWriteError);
      expect((failure as Error).message).toBe(
        `commit on state store ${pgUrl(db)} failed at replica engine[3]: a record was refused ` +
          `(null value in column "state" of relation "replicas" violates not-null constraint); ` +
          `the transaction was rolled back, nothing of it was written`,
      );
      expect(await store.listReplicas()).toStrictEqual([]);
    });
  });

  describe("patch records", () => {
    it("a refused patch session is named in the error, with PostgreSQL's reason", async () => {
      onTestFinished(async () => {
        await closeAll();
        await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
      });
      const store = await open(pgUrl(db));
      const bad = { ...patchSessionRecord({ id: 7 }), status: "closed" } as unknown as ReturnType<
        typeof patchSessionRecord
      >;
      const failure = await store
        .commit({ patchSessions: [patchSessionRecord(), bad] })
        .catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreWriteError);
      expect((failure as Error).message).toBe(
        `commit on state store ${pgUrl(db)} failed at patch session 7 on web-1: a record was refused ` +
          `(new row for relation "patch_sessions" violates check constraint "patch_sessions_status_check"); ` +
          `the transaction was rolled back, nothing of it was written`,
      );
      expect(await store.listPatchSessions()).toStrictEqual([]);
    });

    it("a session whose plan is not a cutover plan: STW-2001 naming it", async () => {
      onTestFinished(async () => {
        await closeAll();
        await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
      });
      const store = await open(pgUrl(db));
      await store.commit({ patchSessions: [fullPatchSessionRecord({ id: 4, node: "db-1" })] });
      await pgAdmin(
        `UPDATE patch_sessions SET plan = '{"components": [{"name": "web"}], "computedAt": 1}'`,
        [],
        db,
      );
      const failure = await store.readPatchSession(4, "db-1").catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreCorruptError);
      expect((failure as Error).message).toContain(
        `state store ${pgUrl(db)} holds an unreadable patch session 4 on db-1 ` +
          `(plan is not a cutover plan: {"components": [{"name": "web"}], "computedAt": 1})`,
      );
      await expect(store.listPatchSessions()).rejects.toBeInstanceOf(StoreCorruptError);
    });
  });

  describe("unreadable records", () => {
    it("a maintenance record whose lists are not JSON lists of names: STW-2001 naming it", async () => {
      onTestFinished(async () => {
        await closeAll();
        await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
      });
      const store = await open(pgUrl(db));
      await store.commit({ maintenance: maintenanceRecord() });
      await pgAdmin(`UPDATE maintenance SET paused_schedules = '["backup", 3]'`, [], db);
      const failure = await store.readMaintenance().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreCorruptError);
      expect((failure as Error).message).toContain(
        `state store ${pgUrl(db)} holds an unreadable maintenance record ` +
          `(paused schedules are not a list of names: ["backup", 3])`,
      );
    });
  });

  describe("terminated backends", () => {
    it("the next commit and read work on fresh connections", async () => {
      onTestFinished(async () => {
        await closeAll();
        await pgAdmin(`TRUNCATE ${TABLES}`, [], db);
      });
      const store = await open(pgUrl(db));
      // Fill the pool with idle connections, then have the server end all of them.
      await Promise.all(
        Array.from({ length: 4 }, (_, i) => store.commit({ replicas: [replicaRecord({ index: i })] })),
      );
      expect(await terminateBackends(db)).toBeGreaterThan(0);
      await store.commit({ replicas: [fullReplicaRecord({ index: 9 })] });
      expect((await store.listReplicas()).map((r) => r.index)).toStrictEqual([0, 1, 2, 3, 9]);
    });
  });
});
