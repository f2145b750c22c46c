/**
 * @module patching/delta
 * Delta sync: make `to` match `from`, copying only files that differ in size or modification time
 * (rsync's quick check; a copy keeps the source's time), creating missing directories and links,
 * and deleting what `from` lacks. Paths matching `exclude` are left alone in both trees.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { copyEntry, walk, type TreeEntry } from "./copy-tree.js";
import { compileExclude } from "./exclude.js";

export async function deltaSync(
  from: string,
  to: string,
  exclude: readonly string[],
): Promise<{ copied: number; deleted: number; bytes: number; changed: string[] }> {
  const skip = compileExclude(exclude);
  const source = await walk(from, skip);
  const target = new Map((await walk(to, skip)).map((e) => [e.rel, e]));
  let copied = 0;
  let bytes = 0;
  const changed: string[] = [];
  for (const e of source) {
    const t = target.get(e.rel);
    if (t && same(e, t)) continue;
    await copyEntry(from, to, e);
    if (e.kind !== "dir") {
      copied += 1;
      changed.push(e.rel);
      bytes += e.kind === "file" ? e.size : 0;
    }
  }
  const wanted = new Set(source.map((e) => e.rel));
  let deleted = 0;
  // Deepest first, and only the topmost of a removed subtree counts once.
  for (const rel of [...target.keys()].reverse()) {
    if (wanted.has(rel)) continue;
    const parent = rel.split("/").slice(0, -1).join("/");
    await rm(join(to, rel), { recursive: true, force: true });
    if (!parent || wanted.has(parent)) {
      deleted += 1;
      changed.push(`-${rel}`);
    }
  }
  return { copied, deleted, bytes, changed };
}

function same(a: TreeEntry, b: TreeEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "dir") return a.mode === b.mode;
  if (a.kind === "link") return a.target === b.target; // a copied link's own time is new
  return a.size === b.size && Math.abs(a.mtimeMs - b.mtimeMs) < 1 && a.mode === b.mode;
}
