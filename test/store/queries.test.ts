/**
 * The statements both stores run are the same kysely queries: compiled for SQLite and for
 * PostgreSQL they differ only in placeholders and in the name of the byte-order collation.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { pgQueries, pgStatements } from "../../src/store/postgres/pg-queries.js";
import { compiledQueriesModule, pgQueryBuilder } from "../../src/store/query-builders.js";
import { slot, slots, storeQuery, toCompiled } from "../../src/store/query.js";
import { sqliteQueries } from "../../src/store/sqlite/sqlite-queries.js";

const GENERATED = fileURLToPath(new URL("../../src/store/compiled-queries.ts", import.meta.url));

describe("store queries", () => {
  const sqlite = sqliteQueries();
  const postgres = pgQueries();

  it("src/store/compiled-queries.ts is what kysely compiles from src/store/queries.ts today", async () => {
    const fresh = compiledQueriesModule();
    if (process.env.STEWARD_WRITE_QUERIES === "1") fs.writeFileSync(GENERATED, fresh);
    const { format } = await import("prettier");
    const expected = await format(fresh, { filepath: GENERATED });
    const actual = await format(fs.readFileSync(GENERATED, "utf8"), { filepath: GENERATED });
    expect(
      actual === expected,
      "src/store/compiled-queries.ts is stale: run STEWARD_WRITE_QUERIES=1 npx vitest run test/store/queries.test.ts",
    ).toBe(true);
  });

  it("are the same statements for SQLite and PostgreSQL, but for placeholders and collation", () => {
    expect(Object.keys(postgres)).toStrictEqual(Object.keys(sqlite));
    expect(Object.keys(pgStatements())).toStrictEqual(Object.keys(sqlite));
    for (const [key, q] of Object.entries(sqlite)) {
      const pg = postgres[key as keyof typeof postgres];
      expect(pg.sql.replace(/\$\d+/g, "?").replaceAll('collate "C"', 'collate "binary"'), key).toBe(q.sql);
    }
  });

  it("order text by bytes, so both list records in code-point order", () => {
    expect(sqlite.selectReplicas.sql).toMatch(/order by "component" collate "binary", "replica_index"$/);
    expect(postgres.selectReplicas.sql).toMatch(/order by "component" collate "C", "replica_index"$/);
    expect(sqlite.selectJobRunsOf.sql).toMatch(
      /order by "started_at" desc, "id" collate "binary" desc limit \?$/,
    );
    expect(sqlite.selectPatchSessions.sql).toMatch(/order by "id" desc, "node" collate "binary" limit \?$/);
    expect(postgres.selectPatchApplicationsOn.sql).toMatch(
      /where "node" = \$1 order by "session", "seq", "node" collate "C", "patch_id" collate "C"$/,
    );
    expect(postgres.selectPatchEditions.sql).toMatch(/order by "node" collate "C", "edition" collate "C"$/);
    expect(postgres.deleteOldJobRuns.sql).toContain(
      'row_number() over(partition by "job" order by "started_at" desc, "id" collate "C" desc)',
    );
  });

  it("bind each slot from the row's field of the same name, constants as compiled", () => {
    expect(sqlite.deleteReplica.bind({ component: "engine", replica_index: 3 })).toStrictEqual(["engine", 3]);
    expect(postgres.deleteOldOperations.bind({ keep: 7 })).toStrictEqual(["running", "running", 7]);
    expect(sqlite.deleteOldJobRuns.bind({ keep: 100 })).toStrictEqual(["running", 100]);
    expect(postgres.selectJobRunsOf.bind({ job: "backup", limit: 5 })).toStrictEqual(["backup", 5]);
    expect(sqlite.selectPatchApplicationsInOn.bind({ session: 2, node: "web-1" })).toStrictEqual([
      2,
      "web-1",
    ]);
    expect(postgres.selectPatchSession.bind({ id: 3, node: "db-1" })).toStrictEqual([3, "db-1"]);
    const row = {
      state: "active",
      pid: 1,
      instance: 100,
      boot_kind: "clean",
      booted_at: 2,
      topology_file: "f",
      updated_at: 3,
    };
    expect(sqlite.upsertDaemon.bind(row)).toStrictEqual([1, "active", 1, 100, "clean", 2, "f", 3]);
  });

  it("slots compile to plain placeholders", () => {
    const db = pgQueryBuilder();
    const q = storeQuery<{ name: string; desired: string; updated_at: number }>(
      toCompiled(
        db
          .insertInto("components")
          .values(
            slots<{ name: string; desired: string; updated_at: number }>(["name", "desired", "updated_at"]),
          )
          .returning("name")
          .compile(),
      ),
    );
    expect(q.sql).toBe(
      `insert into "components" ("name", "desired", "updated_at") values ($1, $2, $3) returning "name"`,
    );
    expect(q.bind({ name: "web", desired: "running", updated_at: 5 })).toStrictEqual(["web", "running", 5]);
    const where = storeQuery<{ id: string }>(
      toCompiled(db.selectFrom("operations").select("id").where("id", "=", slot<string>("id")).compile()),
    );
    expect(where.bind({ id: "op-1" })).toStrictEqual(["op-1"]);
  });
});
