/**
 * @module patching/tar-safety
 * What a patch archive may hold: regular files and directories whose paths stay inside the target
 * — no absolute path, no `..` segment, nothing that escapes once normalised, no link, device or
 * fifo — within an entry count and a total size. The first entry that breaks a rule refuses the
 * whole archive (`UnsafePatchArchiveError` naming it) before anything is written.
 */
import { posix } from "node:path";
import { UnsafePatchArchiveError } from "./errors.js";
import type { TarHeader } from "./tar-header.js";

/** One entry of a safe archive. `path` is normalised and relative (`.` for the root entry `./`). */
export interface TarEntry {
  path: string;
  type: "file" | "directory";
  /** Bytes of data (0 for a directory). */
  size: number;
  /** Permission bits (`0o644`); set-id and sticky bits are dropped. */
  mode: number;
}

/** Bounds on what one archive may hold. */
export interface TarLimits {
  /** Total bytes of file data. @default 1 GiB */
  maxBytes: number;
  /** Number of entries (files and directories). @default 100_000 */
  maxEntries: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxBytes: 1024 ** 3, maxEntries: 100_000 };

const REFUSED: Partial<Record<TarHeader["type"], string>> = {
  symlink: "is a symbolic link",
  hardlink: "is a hard link",
  "char-device": "is a character device",
  "block-device": "is a block device",
  fifo: "is a fifo",
};
const ONLY = "; a patch archive holds regular files and directories only";

/**
 * Turns a header (name, link and size already taken from any pax or GNU long-name entry) into a
 * safe entry, or throws `UnsafePatchArchiveError` naming it.
 * @example checkEntry("p.tar.gz", { name: "./files/a.js", type: "file", size: 3, mode: 0o644, flag: "0", linkname: "" })
 * // { path: "files/a.js", type: "file", size: 3, mode: 0o644 }
 */
export function checkEntry(archive: string, h: TarHeader): TarEntry {
  const refuse = (reason: string): never => {
    throw new UnsafePatchArchiveError(archive, h.name, reason);
  };
  if (h.name === "") refuse("has an empty name");
  if (h.name.startsWith("/")) refuse("has an absolute path");
  const trimmed = h.name.replace(/\/+$/, "") || ".";
  const segments = trimmed.split("/");
  const normal = posix.normalize(trimmed).replace(/\/+$/, "");
  const escapes = normal === ".." || normal.startsWith("../");
  if (escapes && segments[0] !== "..")
    refuse(`would land outside the target (it normalises to \`${normal}\`)`);
  if (segments.includes("..")) refuse("has a `..` segment");
  const why = REFUSED[h.type];
  if (why !== undefined) refuse(`${why}${h.linkname ? ` (to \`${h.linkname}\`)` : ""}${ONLY}`);
  if (h.type !== "file" && h.type !== "directory") refuse(`has an unsupported type \`${h.flag}\`${ONLY}`);
  const type = h.type === "file" && !h.name.endsWith("/") ? "file" : "directory";
  return { path: normal, type, size: type === "file" ? h.size : 0, mode: h.mode & 0o777 };
}

/** Counts entries and bytes against the limits, and refuses a path that is both a file and a directory. */
export class ArchiveTally {
  entries = 0;
  bytes = 0;
  readonly #files = new Set<string>();
  readonly #dirs = new Set<string>(["."]);
  constructor(
    private readonly archive: string,
    private readonly limits: TarLimits,
  ) {}

  add(e: TarEntry): void {
    const refuse = (reason: string): never => {
      throw new UnsafePatchArchiveError(this.archive, e.path, reason);
    };
    this.entries += 1;
    this.bytes += e.size;
    if (this.entries > this.limits.maxEntries)
      refuse(`takes the archive past ${this.limits.maxEntries} entries (the limit)`);
    if (this.bytes > this.limits.maxBytes)
      refuse(`takes the extracted size past ${formatBytes(this.limits.maxBytes)} (the limit)`);
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (this.#files.has(parent)) refuse(`is inside \`${parent}\`, which the archive holds as a file`);
      this.#dirs.add(parent);
    }
    if (e.type === "file" ? this.#dirs.has(e.path) : this.#files.has(e.path))
      refuse("is both a file and a directory in the archive");
    (e.type === "file" ? this.#files : this.#dirs).add(e.path);
  }
}

/** The single top-level directory that wraps every entry (`mypatch/` of `tar czf p.tgz mypatch/`), if any. */
export function wrapperOf(entries: readonly TarEntry[]): string | undefined {
  let top: string | undefined;
  let nested = false;
  for (const e of entries) {
    if (e.path === ".") continue;
    const [first, ...rest] = e.path.split("/");
    if (top !== undefined && first !== top) return undefined;
    top = first;
    if (rest.length > 0) nested = true;
    else if (e.type === "file") return undefined;
  }
  return nested ? top : undefined;
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  return `${n} bytes`;
}
