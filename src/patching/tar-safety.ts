/**
 * @module patching/tar-safety
 * What a patch archive may hold: regular files and directories whose paths stay inside the target
 * — no absolute path, no `..` segment, nothing that escapes once normalised, no link, device or
 * fifo — within an entry count, a total unpacked size and a compression ratio. Checked header by
 * header and byte by byte as the archive streams (patching/tar): the first entry or byte that
 * breaks a rule refuses the whole archive before anything is moved into place.
 */
import { posix } from "node:path";
import { PatchTooLargeError, UnsafePatchArchiveError } from "./errors.js";

/** A header as the streaming reader decodes it, pax and GNU long names already applied. */
export interface ArchiveHeader {
  name: string;
  /** `file`, `directory`, `symlink`, `link`, `fifo`…; `null` for a type flag the reader does not know. */
  type?: string | null | undefined;
  size?: number | undefined;
  mode?: number | undefined;
  linkname?: string | null | undefined;
}

/** One entry of a safe archive. `path` is normalised and relative (`.` for the root entry `./`). */
export interface TarEntry {
  path: string;
  type: "file" | "directory";
  /** Bytes of data (0 for a directory). */
  size: number;
  /** Permission bits (`0o644`); set-id and sticky bits are dropped. */
  mode: number;
}

/** Bounds on what one archive may unpack to. */
export interface TarLimits {
  /** Total bytes of file data. @default 1 GiB */
  maxBytes: number;
  /** Number of entries (files and directories). @default 100_000 */
  maxEntries: number;
  /** Unpacked bytes per byte of archive, checked once past {@link RATIO_FLOOR}. @default 100 */
  maxRatio: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = { maxBytes: 1024 ** 3, maxEntries: 100_000, maxRatio: 100 };

/** Unpacked bytes below which the ratio is not checked: a small archive of zeros is harmless. */
export const RATIO_FLOOR = 64 * 1024 ** 2;

/**
 * Bytes of tar framing (headers, padding, pax records, long names) allowed beyond the file data:
 * this much plus {@link FRAMING_PER_ENTRY} per entry. More is a header built to fill memory.
 */
const FRAMING_FLOOR = 1024 ** 2;
const FRAMING_PER_ENTRY = 8 * 1024;

const REFUSED: Record<string, string> = {
  symlink: "is a symbolic link",
  link: "is a hard link",
  "character-device": "is a character device",
  "block-device": "is a block device",
  fifo: "is a fifo",
};
const ONLY = "; a patch archive holds regular files and directories only";

/**
 * Turns a header into a safe entry, or throws `UnsafePatchArchiveError` naming it.
 * @example checkEntry("p.tar.gz", { name: "./files/a.js", type: "file", size: 3, mode: 0o644 })
 * // { path: "files/a.js", type: "file", size: 3, mode: 0o644 }
 */
export function checkEntry(archive: string, h: ArchiveHeader): TarEntry {
  const refuse = (reason: string): never => {
    throw new UnsafePatchArchiveError(archive, h.name, reason);
  };
  if (h.name === "") refuse("has an empty name");
  if (h.name.includes("\0")) refuse("has a NUL byte in its name");
  if (h.name.startsWith("/")) refuse("has an absolute path");
  const trimmed = h.name.replace(/\/+$/, "") || ".";
  const segments = trimmed.split("/");
  const normal = posix.normalize(trimmed).replace(/\/+$/, "");
  const escapes = normal === ".." || normal.startsWith("../");
  if (escapes && segments[0] !== "..")
    refuse(`would land outside the target (it normalises to \`${normal}\`)`);
  if (segments.includes("..")) refuse("has a `..` segment");
  const type = h.type ?? null;
  const why = type === null ? undefined : REFUSED[type];
  if (why !== undefined) refuse(`${why}${h.linkname ? ` (to \`${h.linkname}\`)` : ""}${ONLY}`);
  const isFile = type === "file" || type === "contiguous-file";
  if (!isFile && type !== "directory") refuse(`has an unsupported type${type ? ` \`${type}\`` : ""}${ONLY}`);
  const kind = isFile && !h.name.endsWith("/") ? "file" : "directory";
  const size = kind === "file" ? (h.size ?? 0) : 0;
  return { path: normal, type: kind, size, mode: (h.mode ?? 0o644) & 0o777 };
}

/**
 * Counts an archive's entries and bytes against the limits as it streams, and refuses a path that
 * is both a file and a directory. `add` is called per header (before its data arrives), `unpacked`
 * per chunk of the decompressed stream.
 */
export class ArchiveTally {
  entries = 0;
  /** Bytes of file data announced by the headers so far. */
  bytes = 0;
  /** Bytes of the decompressed tar stream so far (data and framing). */
  streamed = 0;
  readonly #files = new Set<string>();
  readonly #dirs = new Set<string>(["."]);
  constructor(
    private readonly archive: string,
    /** Size of the compressed archive, for the ratio. */
    private readonly archiveBytes: number,
    private readonly limits: TarLimits,
  ) {}

  add(e: TarEntry): void {
    const refuse = (reason: string): never => {
      throw new UnsafePatchArchiveError(this.archive, e.path, reason);
    };
    this.entries += 1;
    this.bytes += e.size;
    const { maxEntries, maxBytes } = this.limits;
    if (this.entries > maxEntries)
      this.#tooLarge(
        `it holds more than ${maxEntries} entries (the limit)`,
        "--max-entries",
        String(maxEntries * 2),
      );
    if (this.bytes > maxBytes)
      this.#tooLarge(
        `its files come to more than ${formatBytes(maxBytes)} unpacked (the limit; entry \`${e.path}\` of ${formatBytes(e.size)} passes it)`,
        "--max-size",
        compactBytes(maxBytes * 2),
      );
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

  /** `n` more bytes came out of the decompressor. */
  unpacked(n: number): void {
    this.streamed += n;
    const { maxRatio } = this.limits;
    if (this.streamed > RATIO_FLOOR && this.streamed > maxRatio * this.archiveBytes)
      this.#tooLarge(
        `it unpacks to more than ${maxRatio} times its own size (the limit; ${formatBytes(this.archiveBytes)} unpacking past ${formatBytes(this.streamed)}, as a decompression bomb does)`,
        "--max-ratio",
        String(maxRatio * 10),
      );
    const framing = this.streamed - this.bytes;
    const allowed = FRAMING_FLOOR + FRAMING_PER_ENTRY * (this.entries + 1);
    if (framing > allowed)
      this.#tooLarge(
        `its tar headers (pax records, long names, padding) take more than ${formatBytes(allowed)} beyond the file data (the limit for ${this.entries} entries)`,
      );
  }

  #tooLarge(what: string, flag?: string, suggestion?: string): never {
    throw new PatchTooLargeError(this.archive, what, flag && suggestion ? { flag, suggestion } : undefined);
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

/** `1 GiB`, `64 MiB`, `1.5 MiB`, `300 bytes`. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const)
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  return `${n} bytes`;
}

/** A size as the CLI takes it: `2GiB`, `512MiB`, or bytes. */
function compactBytes(n: number): string {
  if (n % 1024 ** 3 === 0) return `${n / 1024 ** 3}GiB`;
  if (n % 1024 ** 2 === 0) return `${n / 1024 ** 2}MiB`;
  return String(n);
}
