/**
 * @module patching/tar-header
 * The 512-byte header block of a tar archive (ustar, GNU and pax flavours) and the bodies of the
 * meta entries that change the next entry: pax extended headers (`path=`, `linkpath=`, `size=`)
 * and GNU long names / long link names. Only decoding here; what is safe is decided in tar-safety.
 */

/** What a header's type flag means. */
export type TarType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "char-device"
  | "block-device"
  | "fifo"
  | "pax"
  | "pax-global"
  | "gnu-longname"
  | "gnu-longlink"
  | "other";

/** One decoded header block. `name` joins the ustar `prefix` when there is one. */
export interface TarHeader {
  name: string;
  mode: number;
  size: number;
  /** The raw type flag (`0`, `5`, `x`, `L`…), for messages about unsupported types. */
  flag: string;
  type: TarType;
  linkname: string;
}

const TYPES: Record<string, TarType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
  x: "pax",
  g: "pax-global",
  L: "gnu-longname",
  K: "gnu-longlink",
};

/** Size of a tar block. */
export const BLOCK = 512;

/** Bytes of padding after a body of `size` bytes. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function str(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** An octal field (NUL/space padded), or GNU base-256 when the high bit of the first byte is set. */
function num(block: Buffer, start: number, length: number): number | undefined {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let n = (field[0] ?? 0) & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const digits = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[ ]+/, "");
  if (digits === "") return 0;
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : undefined;
}

/**
 * Decodes a header block: `"end"` for an all-zero block (the end of the archive), or the reason
 * it is not a tar header (a bad checksum, a malformed number).
 * @example parseHeader(block) // { name: "patch.yaml", mode: 0o644, size: 120, flag: "0", type: "file", linkname: "" }
 */
export function parseHeader(block: Buffer): TarHeader | "end" | { corrupt: string } {
  if (block.every((b) => b === 0)) return "end";
  const stored = num(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) {
    return { corrupt: "a header has a bad checksum (not a tar archive, or a damaged one)" };
  }
  const mode = num(block, 100, 8);
  const size = num(block, 124, 12);
  if (mode === undefined || size === undefined) return { corrupt: "a header has a malformed number" };
  const flag = String.fromCharCode(block[156] ?? 0);
  let name = str(block, 0, 100);
  // POSIX ustar splits long names into prefix + name; GNU ("ustar  ") uses that area for other fields.
  if (block.subarray(257, 263).toString("latin1") === "ustar\0") {
    const prefix = str(block, 345, 155);
    if (prefix !== "") name = `${prefix}/${name}`;
  }
  return { name, mode, size, flag, type: TYPES[flag] ?? "other", linkname: str(block, 157, 100) };
}

/**
 * Decodes a pax extended header body: records `"<length> <key>=<value>\n"`.
 * @example parsePax(Buffer.from("27 path=a/very/long/name.js\n")) // Map { "path" => "a/very/long/name.js" }
 */
export function parsePax(body: Buffer): Map<string, string> | { corrupt: string } {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break;
    const space = body.indexOf(0x20, at);
    const length = space < 0 ? NaN : Number(body.subarray(at, space).toString("latin1"));
    if (!Number.isInteger(length) || length <= space - at || at + length > body.length) {
      return { corrupt: "a pax extended header is malformed" };
    }
    const record = body.subarray(space + 1, at + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}

/** A GNU long name or long link body: the name up to its first NUL. */
export function parseLongName(body: Buffer): string {
  const end = body.indexOf(0);
  return body.subarray(0, end < 0 ? body.length : end).toString("utf8");
}
