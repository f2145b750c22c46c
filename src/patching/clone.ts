/**
 * @module patching/clone
 * fs-clone: a full copy of the run edition over the patch edition, resumable. It copies into a
 * staging directory (`<tmpDir>/clone-<name>`), skipping files already there with the same size and
 * modification time — so a re-run after a failure or a crash goes on where it stopped — then
 * replaces the edition with the staging directory (the edition's name, and so the `patch` link,
 * never change). `force` throws the staging copy away first.
 */
import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { copyEntry, walk } from "./copy-tree.js";
import { fsyncDir } from "./fsync.js";

export interface CloneResult {
  /** Entries copied by this run (a resumed one skips what is already there). */
  files: number;
  bytes: number;
  resumed: boolean;
}

/** @example await cloneEdition("/srv/shop/fs1", "/srv/shop/fs2", { tmpDir: "/srv/shop/fs_ne/tmp" }) */
export async function cloneEdition(
  from: string,
  to: string,
  opts: {
    tmpDir: string;
    force?: boolean;
    onProgress?: (p: { files: number; bytes: number }) => void;
    /** Leave these out (relative path, is a directory). */
    skip?: (rel: string, isDir: boolean) => boolean;
  },
): Promise<CloneResult> {
  const staging = join(opts.tmpDir, `clone-${basename(to)}`);
  if (opts.force) await rm(staging, { recursive: true, force: true });
  const resumed = await lstat(staging).then(
    () => true,
    () => false,
  );
  await mkdir(staging, { recursive: true });
  let files = 0;
  let bytes = 0;
  for (const e of await walk(from, opts.skip)) {
    if (e.kind === "file") {
      const there = await lstat(join(staging, e.rel)).catch(() => undefined);
      if (there?.isFile() && there.size === e.size && Math.abs(there.mtimeMs - e.mtimeMs) < 1) continue;
    }
    await copyEntry(from, staging, e);
    if (e.kind !== "dir") {
      files += 1;
      bytes += e.kind === "file" ? e.size : 0;
      opts.onProgress?.({ files, bytes });
    }
  }
  await rm(to, { recursive: true, force: true });
  await rename(staging, to);
  await fsyncDir(dirname(to));
  return { files, bytes, resumed };
}
