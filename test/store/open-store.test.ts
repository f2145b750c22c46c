import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";

import { StoreUnreachableError } from "../../src/store/errors.js";
import { openStore } from "../../src/store/open-store.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { daemonRecord } from "./contract.js";
import { createDatabase, dropDatabase, pgUrl } from "./fixtures/postgres.js";

describe("openStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "steward-open-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens a SQLite store at the spec's path", async () => {
    const path = join(dir, ".steward", "state.db");
    const store = await openStore({ kind: "sqlite", path });
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store).toMatchObject({ kind: "sqlite", location: path });
    await store.commit({ daemon: daemonRecord() });
    await store.close();
    const again = await openStore({ kind: "sqlite", path });
    expect(await again.readDaemon()).toStrictEqual(daemonRecord());
    await again.close();
  });

  it("opens a PostgreSQL store at the spec's URL, migrated, named without its password", async () => {
    const name = await createDatabase("open");
    const opened: StateStore[] = [];
    onTestFinished(async () => {
      for (const s of opened) await s.close();
      await dropDatabase(name);
    });
    const url = pgUrl(name).replace("postgres@", "postgres:secret@");
    const store = await openStore({ kind: "postgres", url });
    opened.push(store);
    expect(store).toBeInstanceOf(PostgresStore);
    expect(store).toMatchObject({ kind: "postgres", location: pgUrl(name) });
    await store.commit({ daemon: daemonRecord() });
    expect(await store.readDaemon()).toStrictEqual(daemonRecord());
  });

  it("says which PostgreSQL it cannot reach, without the password", async () => {
    const failure = await openStore({
      kind: "postgres",
      url: "postgres://steward:secret@127.0.0.1:1/shop",
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreUnreachableError);
    expect(failure).toMatchObject({ code: "STW-2007" });
    expect((failure as Error).message).toMatch(
      /^state store postgres:\/\/steward@127\.0\.0\.1:1\/shop is unreachable/,
    );
    expect(JSON.stringify((failure as StoreUnreachableError).toJSON())).not.toContain("secret");
  });
});
