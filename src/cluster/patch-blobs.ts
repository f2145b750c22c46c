/**
 * @module cluster/patch-blobs
 * Patches travel to every node through the store (cluster/patch-sql): the asking node stores each
 * one — an archive as it is, a directory packed into a `.tar.gz` — under the SHA-256 of its bytes;
 * each node reads it back into a file of its own and checks the SHA-256 of what it wrote before
 * the patch is used. A blob already stored is not stored again.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type pg from "pg";
import { StewardError } from "../errors.js";
import { BLOB_STORED, CHUNK_BYTES, DROP_ORPHAN_CHUNKS, GET_CHUNK, PUT_BLOB, PUT_CHUNK } from "./patch-sql.js";

/** A patch as the cluster knows it: what the asking node named, and the checksum of its bytes. */
export interface PatchBlobRef {
  /** The file name each node gives it (`fix-1.tar.gz`). */
  name: string;
  sha256: string;
  size: number;
}

const ARCHIVE = /\.(tar\.gz|tgz)$/;

/**
 * A directory packed as `<dir>.tar.gz` into `tmp` (regular files and directories; anything else is
 * refused). Entries in name order with their own mtimes: the same tree packs to the same bytes, so
 * asking again stores nothing new.
 */
async function pack(dir: string, tmp: string): Promise<string> {
  const { pack: tarPack } = await import("tar-stream");
  const out = join(tmp, `${basename(dir)}.tar.gz`);
  const p = tarPack();
  const written = pipeline(p, createGzip(), createWriteStream(out));
  const walk = async (at: string): Promise<void> => {
    for (const name of (await readdir(at)).sort()) {
      const full = join(at, name);
      const rel = relative(dir, full);
      const st = await lstat(full);
      if (st.isDirectory()) {
        p.entry({ name: `${rel}/`, type: "directory", mode: st.mode & 0o777, mtime: st.mtime });
        await walk(full);
      } else if (st.isFile()) {
        const body = await readFile(full);
        await new Promise<void>((resolve, reject) =>
          p.entry({ name: rel, size: body.length, mode: st.mode & 0o777, mtime: st.mtime }, body, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
      } else
        throw new StewardError(
          "STW-5007",
          `patch ${dir}: ${rel} is neither a file nor a directory (a patch holds no links or devices)`,
        );
    }
  };
  try {
    await walk(dir);
    p.finalize();
  } catch (err) {
    p.destroy(err as Error);
    await written.catch(() => undefined);
    await rm(out, { force: true });
    throw err;
  }
  await written;
  return out;
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(file), h);
  return h.digest("hex");
}

/**
 * Stores the patch at `source` (a directory or `.tar.gz`) for every node; `tmp` is a scratch
 * directory of this node. Returns how the nodes will find it.
 */
export async function storePatchBlob(
  pool: pg.Pool,
  source: string,
  node: string,
  tmp: string,
): Promise<PatchBlobRef> {
  const st = await stat(source).catch(() => undefined);
  if (!st)
    throw new StewardError("STW-5007", `patch ${source}: no such file or directory`, { httpStatus: 400 });
  await mkdir(tmp, { recursive: true });
  const file = st.isDirectory() ? await pack(source, tmp) : source;
  try {
    const name = st.isDirectory() ? basename(file) : basename(source);
    if (!ARCHIVE.test(name))
      throw new StewardError(
        "STW-5007",
        `patch ${source}: a patch is a directory or a .tar.gz / .tgz archive`,
        {
          httpStatus: 400,
        },
      );
    const sha256 = await sha256Of(file);
    const size = (await stat(file)).size;
    if ((await pool.query(BLOB_STORED, [sha256])).rowCount === 1) return { name, sha256, size };
    await pool.query(DROP_ORPHAN_CHUNKS, [sha256]);
    let seq = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
      await pool.query(PUT_CHUNK, [sha256, seq, chunk as Buffer]);
      seq += 1;
    }
    await pool.query(PUT_BLOB, [sha256, name, size, seq, node]);
    return { name, sha256, size };
  } finally {
    if (file !== source) await rm(file, { force: true });
  }
}

/**
 * Reads blob `ref` into `<dir>/<sha256>/<name>` (kept: a re-run reads it again only if it is not
 * there whole) and checks its SHA-256 on this node.
 * @throws StewardError STW-5008 when the blob is missing or its checksum differs here
 */
export async function fetchPatchBlob(
  pool: pg.Pool,
  ref: PatchBlobRef,
  dir: string,
  node: string,
): Promise<string> {
  const into = join(dir, ref.sha256);
  const file = join(into, ref.name);
  if ((await stat(file).catch(() => undefined))?.size === ref.size && (await sha256Of(file)) === ref.sha256)
    return file;
  const stored = (await pool.query<{ chunks: number }>(BLOB_STORED, [ref.sha256])).rows[0];
  if (!stored)
    throw new StewardError(
      "STW-5008",
      `patch ${ref.name}: the store has no blob ${ref.sha256.slice(0, 12)}…; apply it again from the node that has the file`,
    );
  await mkdir(into, { recursive: true });
  const part = `${file}.part`;
  const out = createWriteStream(part);
  try {
    for (let seq = 0; seq < stored.chunks; seq += 1) {
      const row = (await pool.query<{ bytes: Buffer }>(GET_CHUNK, [ref.sha256, seq])).rows[0];
      if (!row)
        throw new StewardError(
          "STW-5008",
          `patch ${ref.name}: chunk ${seq} of ${stored.chunks} is missing in the store`,
        );
      if (!out.write(row.bytes)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    out.destroy();
    await rm(part, { force: true });
    throw err;
  }
  const got = await sha256Of(part);
  if (got !== ref.sha256) {
    await rm(part, { force: true });
    throw new StewardError(
      "STW-5008",
      `patch ${ref.name}: checksum on ${node} is ${got.slice(0, 12)}…, expected ${ref.sha256.slice(0, 12)}… (${ref.size} bytes); nothing applied on this node`,
    );
  }
  await rename(part, file);
  return file;
}
