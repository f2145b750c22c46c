/**
 * @module patching/copy-tree
 * Walking and copying edition trees: regular files (content, mode, modification time kept, a
 * reflink where the filesystem can), directories and symlinks (copied as links, targets as they
 * are); anything else (sockets, fifos, devices) is skipped.
 */
import { constants } from "node:fs";
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from "node:fs/promises";
import { join } from "node:path";

export interface TreeEntry {
  /** Path relative to the tree's root, `/`-separated. */
  rel: string;
  kind: "file" | "dir" | "link";
  size: number;
  mtimeMs: number;
  mode: number;
  /** A link's target, as written. */
  target?: string;
}

/** Every entry under `root`, parents before children; `skip(rel, isDir)` prunes. */
export async function walk(
  root: string,
  skip: (rel: string, isDir: boolean) => boolean = () => false,
): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, r));
      const kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "link" : undefined;
      if (!kind || skip(r, kind === "dir")) continue;
      const target = kind === "link" ? await readlink(join(root, r)) : undefined;
      out.push({
        rel: r,
        kind,
        size: st.size,
        mtimeMs: st.mtimeMs,
        mode: st.mode & 0o7777,
        ...(target !== undefined ? { target } : {}),
      });
      if (kind === "dir") await visit(r);
    }
  };
  await visit("");
  return out;
}

/** Copy one entry from `fromRoot` to `toRoot`, replacing what is there. */
export async function copyEntry(fromRoot: string, toRoot: string, e: TreeEntry): Promise<void> {
  const from = join(fromRoot, e.rel);
  const to = join(toRoot, e.rel);
  if (e.kind === "dir") {
    await mkdir(to, { recursive: true });
    await chmod(to, e.mode);
    return;
  }
  const existing = await lstat(to).catch(() => undefined);
  if (existing && (existing.isDirectory() || existing.isSymbolicLink() || e.kind === "link"))
    await rm(to, { recursive: true, force: true });
  if (e.kind === "link") {
    await symlink(await readlink(from), to);
    return;
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chmod(to, e.mode);
  // Seconds as a float keep sub-millisecond precision (a Date would truncate, and the quick check
  // of delta sync would then see a copy as changed).
  await utimes(to, e.mtimeMs / 1000, e.mtimeMs / 1000);
}
