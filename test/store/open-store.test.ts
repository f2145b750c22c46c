import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { StoreUnsupportedError } from "../../src/store/errors.js";
import { openStore } from "../../src/store/open-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { daemonRecord } from "./contract.js";

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

  it("refuses PostgreSQL until cluster mode, saying what to use instead", async () => {
    const failure = await openStore({
      kind: "postgres",
      url: "postgres://steward:secret@db:5432/shop",
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreUnsupportedError);
    expect(failure).toMatchObject({
      code: "STW-2004",
      message: "PostgreSQL store arrives with cluster mode (issue 3); use `store: sqlite` for now",
    });
    expect(JSON.stringify((failure as StoreUnsupportedError).toJSON())).not.toContain("secret");
  });
});
