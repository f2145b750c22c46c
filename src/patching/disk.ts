/**
 * @module patching/disk
 * Disk space for a phase: the size of an edition, the free space under the patching root, and the
 * check that refuses a phase that would not fit.
 */
import { lstat, readdir, statfs } from "node:fs/promises";
import { join } from "node:path";
import { InsufficientDiskError } from "./errors.js";

/** Bytes of the regular files under `dir` (links not followed). */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const st = await lstat(p);
    if (st.isDirectory()) total += await treeSize(p);
    else if (st.isFile()) total += st.size;
  }
  return total;
}

/** Bytes an unprivileged writer may still use on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** @throws InsufficientDiskError when fewer than `neededBytes` are free under `dir` */
export async function checkSpace(dir: string, neededBytes: number): Promise<void> {
  const free = await freeBytes(dir);
  if (free < neededBytes) throw new InsufficientDiskError(dir, neededBytes, free);
}
