/**
 * Each node's state records in its own schema of the shared database; a PostgreSQL store without a
 * cluster keeps its tables where they always were.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeSchemaName } from "../../src/cluster/schema-name.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { createDatabase, dropDatabase, pgAdmin, pgUrl } from "../store/fixtures/postgres.js";
import { replicaRecord } from "../store/fixtures/records.js";

let db = "";
beforeAll(async () => {
  db = await createDatabase("nodeschema");
});
afterAll(async () => {
  if (db !== "") await dropDatabase(db);
});

describe("nodeSchemaName", () => {
  it("is readable, and different for names that sanitise alike", () => {
    expect(nodeSchemaName("n1")).toBe("steward_node_n1");
    expect(nodeSchemaName("web_2")).toBe("steward_node_web_2");
    const dotted = nodeSchemaName("a.b");
    expect(dotted).toMatch(/^steward_node_a_b_[0-9a-f]{6}$/);
    expect(dotted).not.toBe(nodeSchemaName("a_b"));
    expect(nodeSchemaName("N1")).not.toBe(nodeSchemaName("n1"));
    const long = nodeSchemaName("x".repeat(63));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(nodeSchemaName(`${"x".repeat(62)}y`));
  });
});

describe("a node's own schema", () => {
  it("three nodes opening at once each get their own tables; the default store keeps its own", async () => {
    const url = pgUrl(db);
    const stores = await Promise.all(
      ["n1", "n2", "n3"].map((n) => PostgresStore.open(url, { schema: nodeSchemaName(n) })),
    );
    const plain = await PostgresStore.open(url);
    try {
      await stores[0]!.commit({ replicas: [replicaRecord({ index: 0, pid: 111 })] });
      await stores[1]!.commit({
        replicas: [replicaRecord({ index: 0, pid: 222 }), replicaRecord({ index: 1 })],
      });
      expect((await stores[0]!.listReplicas()).map((r) => r.pid)).toEqual([111]);
      expect((await stores[1]!.listReplicas()).length).toBe(2);
      expect(await stores[2]!.listReplicas()).toEqual([]);
      expect(await plain.listReplicas()).toEqual([]);
      const where = await pgAdmin<{ schemaname: string }>(
        "SELECT schemaname FROM pg_tables WHERE tablename = 'replicas' ORDER BY 1",
        [],
        db,
      );
      expect(where.map((r) => r.schemaname)).toEqual([
        "public",
        "steward_node_n1",
        "steward_node_n2",
        "steward_node_n3",
      ]);
    } finally {
      for (const s of [...stores, plain]) await s.close();
    }
  });
});
