/**
 * Patches travel through the store (cluster/patch-blobs) on the real PostgreSQL: a directory is
 * packed and stored once under its SHA-256, in 1 MiB chunks; a node reads it back into a file and
 * checks the checksum there — a blob changed in the store is refused on the node, nothing kept.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateCluster } from "../../src/cluster/migrate.js";
import { fetchPatchBlob, storePatchBlob } from "../../src/cluster/patch-blobs.js";
import { createDatabase, dropDatabase, pgAdmin, pgUrl } from "../store/fixtures/postgres.js";

let db = "";
let pool: pg.Pool;
let tmp = "";
beforeAll(async () => {
  db = await createDatabase("blobs");
  pool = new pg.Pool({ connectionString: pgUrl(db), max: 2 });
  const client = await pool.connect();
  try {
    await migrateCluster(client);
  } finally {
    client.release();
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stw-blobs-"));
});
afterAll(async () => {
  await pool?.end();
  if (db !== "") await dropDatabase(db);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sha = (file: string): string => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("patch blobs", () => {
  it("stores a directory once, in chunks; another node reads it back byte for byte", async () => {
    const dir = path.join(tmp, "src", "fix-7");
    fs.mkdirSync(path.join(dir, "files", "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "patch.yaml"), "id: fix-7\n");
    fs.writeFileSync(path.join(dir, "files", "sub", "big.bin"), randomBytes(2_500_000)); // 3 chunks, incompressible
    const ref = await storePatchBlob(pool, dir, "n1", path.join(tmp, "upload"));
    expect(ref.name).toBe("fix-7.tar.gz");
    const chunks = await pgAdmin<{ n: string }>(
      "SELECT count(*) AS n FROM steward_cluster.patch_blob_chunks WHERE sha256 = $1",
      [ref.sha256],
      db,
    );
    expect(Number(chunks[0]!.n)).toBe(Math.ceil(ref.size / (1024 * 1024)));
    expect(await storePatchBlob(pool, dir, "n2", path.join(tmp, "upload"))).toEqual(ref); // stored once
    const file = await fetchPatchBlob(pool, ref, path.join(tmp, "n2"), "n2");
    expect(sha(file)).toBe(ref.sha256);
    expect(fs.statSync(file).size).toBe(ref.size);
  });

  it("a blob whose bytes changed in the store is refused on the node, with both checksums; nothing is kept", async () => {
    const archive = path.join(tmp, "fix-8.tar.gz");
    fs.writeFileSync(archive, randomBytes(4096));
    const ref = await storePatchBlob(pool, archive, "n1", path.join(tmp, "upload"));
    await pgAdmin(
      "UPDATE steward_cluster.patch_blob_chunks SET bytes = set_byte(bytes, 10, (get_byte(bytes, 10) + 1) % 256) WHERE sha256 = $1",
      [ref.sha256],
      db,
    );
    const into = path.join(tmp, "n3");
    await expect(fetchPatchBlob(pool, ref, into, "n3")).rejects.toThrow(
      new RegExp(
        `patch fix-8.tar.gz: checksum on n3 is [0-9a-f]{12}…, expected ${ref.sha256.slice(0, 12)}… \\(4096 bytes\\); nothing applied on this node`,
      ),
    );
    expect(fs.readdirSync(path.join(into, ref.sha256))).toEqual([]);
    await expect(fetchPatchBlob(pool, { ...ref, sha256: "0".repeat(64) }, into, "n3")).rejects.toThrow(
      /the store has no blob 000000000000…/,
    );
  });

  it("refuses what is not a patch: a missing path, a file that is not an archive, a symlink inside", async () => {
    await expect(storePatchBlob(pool, path.join(tmp, "nope"), "n1", tmp)).rejects.toThrow(
      /no such file or directory/,
    );
    const txt = path.join(tmp, "notes.txt");
    fs.writeFileSync(txt, "x");
    await expect(storePatchBlob(pool, txt, "n1", tmp)).rejects.toThrow(/a directory or a \.tar\.gz/);
    const linked = path.join(tmp, "linked");
    fs.mkdirSync(linked);
    fs.symlinkSync("/etc/passwd", path.join(linked, "passwd"));
    await expect(storePatchBlob(pool, linked, "n1", path.join(tmp, "upload"))).rejects.toThrow(
      /passwd is neither a file nor a directory/,
    );
    expect(fs.readdirSync(path.join(tmp, "upload"))).toEqual([]); // no half-packed archive left
  });
});
