/**
 * A daemon whose PostgreSQL store is cut off (connections refused, open ones terminated; the server
 * keeps running) goes on supervising: a replica killed meanwhile is restarted by its policy, nothing
 * is stopped because of the store, and once the database is back the queued records reach it.
 */
import fs from "node:fs";
import path from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createDatabase, cutOff, dropDatabase, pgUrl, restore } from "../store/fixtures/postgres.js";
import { alive, homeOf, node, project, replica, sleep, status, steward, waitFor } from "./helpers.js";

let db = "";
beforeAll(async () => {
  db = await createDatabase("outage");
});
// After the helpers' afterEach has brought the daemon down and killed what was left.
afterAll(async () => {
  if (db !== "") await dropDatabase(db);
});

/** The replica records of `web` as the daemon committed them, read with a client of our own. */
async function recordedPids(): Promise<(number | null)[]> {
  const client = new pg.Client({ connectionString: pgUrl(db), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number | null }>(
      "SELECT pid FROM replicas WHERE component = 'web' ORDER BY replica_index",
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

const daemonLog = (dir: string): string =>
  fs.readFileSync(path.join(homeOf(dir), "logs", "daemon.log"), "utf8");
const count = (text: string, re: RegExp): number => text.match(new RegExp(re, "g"))?.length ?? 0;

describe("a PostgreSQL store that is cut off for a while", () => {
  it("does not stop supervision; the records catch up once the database is back", async () => {
    const dir = project(`
name: pgoutage
store: ${pgUrl(db)}
components:
  web:
    command: ${node("forever.js")}
    replicas: 2
    restart: { policy: always }
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const before = (await status(dir)).components[0]!.replicas.map((r) => r.pid!);
    expect(await recordedPids()).toStrictEqual(before);

    let cut = false;
    try {
      await cutOff(db);
      cut = true;
      process.kill(before[0]!, "SIGKILL");
      const restarted = await waitFor("web[0] to be restarted", async () => {
        const r = await replica(dir, "web", 0);
        return r.state === "ready" && r.pid !== before[0] ? r : undefined;
      });
      expect(restarted.restarts).toBe(1);
      await sleep(1500); // several retries, with backoff
      const during = await status(dir);
      expect(during.daemon.pid).toBeGreaterThan(0);
      expect(alive(during.daemon.pid)).toBe(true);
      expect((await replica(dir, "web", 1)).pid).toBe(before[1]); // nothing was stopped because of the store
      expect(alive(before[1]!)).toBe(true);
      const log = daemonLog(dir);
      expect(count(log, /state store write failed: .*is unreachable/)).toBe(1);
      expect(log).toMatch(/not currently accepting connections; the daemon queues its writes/);

      await restore(db);
      cut = false;
      await waitFor("the new pid in PostgreSQL", async () => {
        const pids = await recordedPids();
        return pids[0] === restarted.pid && pids[1] === before[1] ? pids : undefined;
      });
      await waitFor("the recovery in the daemon's log", () =>
        /state store reachable again; \d+ queued writes flushed/.test(daemonLog(dir)),
      );
      expect(count(daemonLog(dir), /state store reachable again/)).toBe(1);
      expect(count(daemonLog(dir), /state store write failed/)).toBe(1);
    } finally {
      if (cut) await restore(db); // never leave the database refusing connections
    }

    const down = await steward(dir, "down");
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(await recordedPids()).toStrictEqual([]); // volatile records cleared by the orderly shutdown
  });
});
