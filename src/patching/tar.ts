/**
 * @module patching/tar
 * Reading a patch archive (`.tar.gz` / `.tgz`: ustar, GNU and pax) into memory, every entry checked
 * (patching/tar-safety) before the caller writes anything; and writing a checked archive out.
 */
import { readFile, mkdir, writeFile, chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { InvalidPatchError } from "./errors.js";
import { BLOCK, padding, parseHeader, parseLongName, parsePax, type TarHeader } from "./tar-header.js";
import {
  ArchiveTally,
  DEFAULT_TAR_LIMITS,
  checkEntry,
  wrapperOf,
  type TarEntry,
  type TarLimits,
} from "./tar-safety.js";

export interface ArchiveEntry extends TarEntry {
  data: Buffer;
}

/**
 * Every entry of `file`, checked; a single top-level directory wrapping everything is stripped.
 * @throws UnsafePatchArchiveError (an entry escaping the target, a link, a device, past a limit)
 * @throws InvalidPatchError when the file is not a gzip'd tar archive
 */
export async function readTarGz(
  file: string,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): Promise<ArchiveEntry[]> {
  const corrupt = (message: string): never => {
    throw new InvalidPatchError(file, [{ file, line: 0, column: 0, path: "", message }]);
  };
  let tar: Buffer;
  try {
    // Bounded, so a small archive cannot expand into all of memory.
    tar = gunzipSync(await readFile(file), { maxOutputLength: limits.maxBytes + 64 * 1024 * 1024 });
  } catch (err) {
    return corrupt(`not a gzip-compressed tar archive: ${(err as Error).message}`);
  }
  const tally = new ArchiveTally(file, limits);
  const entries: ArchiveEntry[] = [];
  let pending: { path?: string; linkpath?: string; size?: number } = {};
  for (let at = 0; at + BLOCK <= tar.length;) {
    const h = parseHeader(tar.subarray(at, at + BLOCK));
    if (h === "end") break;
    if ("corrupt" in h) return corrupt(h.corrupt);
    at += BLOCK;
    const size = pending.size ?? h.size;
    if (at + size > tar.length) return corrupt("an entry is cut short (a truncated archive)");
    const body = tar.subarray(at, at + size);
    at += size + padding(size);
    if (h.type === "pax") {
      const pax = parsePax(body);
      if ("corrupt" in pax) return corrupt(pax.corrupt);
      const s = pax.get("size");
      pending = {
        ...(pax.has("path") ? { path: pax.get("path")! } : {}),
        ...(pax.has("linkpath") ? { linkpath: pax.get("linkpath")! } : {}),
        ...(s !== undefined && /^\d+$/.test(s) ? { size: Number(s) } : {}),
      };
      continue;
    }
    if (h.type === "pax-global") continue;
    if (h.type === "gnu-longname" || h.type === "gnu-longlink") {
      pending = { ...pending, [h.type === "gnu-longname" ? "path" : "linkpath"]: parseLongName(body) };
      continue;
    }
    const header: TarHeader = {
      ...h,
      size,
      name: pending.path ?? h.name,
      linkname: pending.linkpath ?? h.linkname,
    };
    pending = {};
    const entry = checkEntry(file, header);
    tally.add(entry);
    if (entry.path !== ".")
      entries.push({ ...entry, data: entry.type === "file" ? Buffer.from(body) : Buffer.alloc(0) });
  }
  const wrapper = wrapperOf(entries);
  if (wrapper === undefined) return entries;
  return entries
    .filter((e) => e.path !== wrapper)
    .map((e) => ({ ...e, path: e.path.slice(wrapper.length + 1) }));
}

/** Write checked entries under `dir` (which must not exist yet or be empty). */
export async function writeEntries(dir: string, entries: readonly ArchiveEntry[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const e of entries) {
    const to = join(dir, e.path);
    if (e.type === "directory") {
      await mkdir(to, { recursive: true });
      continue;
    }
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, e.data);
    await chmod(to, e.mode);
  }
}
