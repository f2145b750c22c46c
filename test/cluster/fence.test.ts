/**
 * The primary lease's two safeguards, on the real PostgreSQL: the database-side fence (a write
 * conditional on holder, epoch and expiry by the database's clock, the lease row share-locked) and
 * the holder's own monotonic deadline (it stops acting before the term can end).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_MIGRATIONS, FENCED_PUBLISH, HEARTBEAT } from "../../src/cluster/cluster-sql.js";
import { PrimaryLease } from "../../src/cluster/lease.js";
import { outcomeOf, withOutcome } from "../../src/cluster/fenced-write.js";
import { migrateCluster } from "../../src/cluster/migrate.js";
import { FINISH } from "../../src/cluster/operations-sql.js";
import { types } from "../../src/store/postgres/pool.js";
import { createDatabase, dropDatabase, pgUrl } from "../store/fixtures/postgres.js";

let db = "";
let client: pg.Client;
beforeAll(async () => {
  db = await createDatabase("fence");
  client = new pg.Client({ connectionString: pgUrl(db), types });
  await client.connect();
  // Three sessions migrating at once: one creates everything, the others find it done.
  const others = [
    new pg.Client({ connectionString: pgUrl(db) }),
    new pg.Client({ connectionString: pgUrl(db) }),
  ];
  await Promise.all(others.map((o) => o.connect()));
  try {
    const applied = await Promise.all([client, ...others].map((c) => migrateCluster(c)));
    // One session applied every migration; the other two found them applied.
    expect(applied.map((a) => a.length).sort((a, b) => a - b)).toEqual([0, 0, CLUSTER_MIGRATIONS.length]);
  } finally {
    await Promise.all(others.map((o) => o.end()));
  }
});
afterAll(async () => {
  await client?.end();
  if (db !== "") await dropDatabase(db);
});

const setLease = (holder: string | null, epoch: number, inMs: number): Promise<unknown> =>
  client.query(
    "UPDATE steward_cluster.primary_lease SET holder = $1, epoch = $2, expires_at = clock_timestamp() + $3 * interval '1 ms'",
    [holder, epoch, inMs],
  );
const publish = async (node: string, epoch: number): Promise<number> =>
  (await client.query(FENCED_PUBLISH, [node, epoch, "digest"])).rowCount ?? -1;

describe("the fence", () => {
  it("accepts only the live holder at its epoch", async () => {
    await setLease("n1", 1, 10_000);
    expect(await publish("n1", 1)).toBe(1);
    expect(await publish("n2", 1)).toBe(0); // not the holder
    await setLease("n2", 2, 10_000); // n2 took over: n1's epoch is old
    expect(await publish("n1", 1)).toBe(0);
    expect(await publish("n2", 2)).toBe(1);
    await setLease("n2", 2, -1); // expired by the database's clock, nobody took it yet
    expect(await publish("n2", 2)).toBe(0);
    const rows = await client.query("SELECT node, epoch FROM steward_cluster.primary_record");
    expect(rows.rows).toEqual([{ node: "n2", epoch: 2 }]);
  });

  it("a heartbeat takes a free or expired lease with a new epoch, never a live one of another node", async () => {
    await client.query(
      `INSERT INTO steward_cluster.nodes (name, schema_name, session, advertise, hostname, home, pid,
         topology_digest, heartbeat_ms, allowed_misses, state, registered_at, heartbeat_at)
       VALUES ('n3', 'steward_node_n3', 's3', '127.0.0.3', 'h', '/h', 1, 'd', 200, 2, 'up', now(), now())`,
    );
    const beat = async (tryLease: boolean, believed: number | null) =>
      (await client.query(HEARTBEAT, ["n3", "s3", 100, "d", tryLease, believed, 2000])).rows[0] as {
        beat: number;
        holder: string | null;
        epoch: number;
        lease_written: number;
      };
    await setLease("n2", 5, 10_000);
    expect(await beat(true, null)).toMatchObject({ beat: 1, holder: "n2", epoch: 5, lease_written: 0 });
    await setLease("n2", 5, -1);
    expect(await beat(true, null)).toMatchObject({ beat: 1, holder: "n3", epoch: 6, lease_written: 1 });
    expect(await beat(true, 6)).toMatchObject({ holder: "n3", epoch: 6, lease_written: 1 }); // renewal
    expect(await beat(true, null)).toMatchObject({ holder: "n3", epoch: 7 }); // re-taken without belief: new epoch
    expect(await beat(false, 7)).toMatchObject({ holder: "n3", epoch: 7, lease_written: 0 });
    // Another session holding the name: no beat, no lease.
    expect((await client.query(HEARTBEAT, ["n3", "other", 100, "d", true, 7, 2000])).rows[0]).toMatchObject({
      beat: 0,
      lease_written: 0,
    });
  });
});

describe("a fenced update's outcome (cluster/fenced-write)", () => {
  it("tells accepted (rows changed), unchanged (fence held, nothing to do) and rejected (fence did not hold) apart", async () => {
    const finish = async (node: string, epoch: number, op: string): Promise<string> =>
      outcomeOf(
        (await client.query<{ changed: number; held: boolean }>(withOutcome(FINISH), [node, epoch, op]))
          .rows[0],
      );
    await client.query(
      `INSERT INTO steward_cluster.operations (id, kind, components, asked_by, state, asked_at)
       VALUES ('op-a', 'start', '[]', 'n1', 'running', clock_timestamp()),
              ('op-b', 'start', '[]', 'n1', 'running', clock_timestamp())`,
    );
    await setLease("n1", 7, 10_000);
    expect(await finish("n1", 7, "op-a")).toBe("accepted");
    expect(await finish("n1", 7, "op-a")).toBe("unchanged"); // already finished
    expect(await finish("n1", 6, "op-b")).toBe("rejected"); // an old epoch
    await setLease("n2", 8, 10_000);
    expect(await finish("n1", 7, "op-b")).toBe("rejected"); // another holder
    await setLease("n2", 8, -1);
    expect(await finish("n2", 8, "op-b")).toBe("rejected"); // expired
    const states = await client.query("SELECT id, state FROM steward_cluster.operations ORDER BY id");
    expect(states.rows).toEqual([
      { id: "op-a", state: "done" },
      { id: "op-b", state: "running" },
    ]);
  });
});

describe("the holder's monotonic deadline", () => {
  it("acts until sentAt + term − margin, and not a moment after; any failure stops it at once", () => {
    const changes: string[] = [];
    const lease = new PrimaryLease(1000, (role, epoch, why) =>
      changes.push(`${role} ${epoch} ${why ?? ""}`.trim()),
    );
    expect(lease.marginMs).toBe(100);
    lease.answered(0, true, "n1", "n1", 4, 1000);
    expect(lease.epochNow(899)).toBe(4);
    expect(lease.wantsLease(400)).toBe(false);
    expect(lease.wantsLease(500)).toBe(true); // half the term
    expect(lease.epochNow(900)).toBeNull(); // the term may end soon: stop
    lease.answered(1000, true, "n1", "n1", 4, 1000);
    expect(lease.epochNow(1001)).toBe(4);
    lease.failed();
    expect(lease.epochNow(1002)).toBeNull();
    lease.answered(2000, true, "n1", "n1", 5, 1000);
    // A renewal answered long after it was sent (the process was paused) gives nothing.
    lease.answered(2000, true, "n1", "n1", 5, 1000);
    expect(lease.epochNow(5000)).toBeNull();
    lease.answered(6000, true, "n1", "n2", 6, 1000);
    expect(lease.epochNow(6001)).toBeNull();
    expect(changes).toEqual([
      "primary 4",
      "follower null term elapsed without renewal",
      "primary 4",
      "follower null renewal failed",
      "primary 5",
      "follower null term elapsed without renewal",
    ]);
  });
});
