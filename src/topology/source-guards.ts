/**
 * @module topology/source-guards
 * What a topology's bytes must be before the YAML parser sees them, and what its strings must be
 * before a program does: at most {@link MAX_TOPOLOGY_BYTES}, valid UTF-8 (a byte that is not is
 * located, never silently replaced), and no NUL in any key or value (the kernel cannot pass one in
 * an argument, an environment value or a path, so it would fail only at `up`). Also the cap on how
 * many problems one error lists: locating each costs a walk of the document.
 */
import type { PathIssue } from "./locate.js";

/** Largest topology file read: 1 MiB (a topology of 500 components is about 100 KB). */
export const MAX_TOPOLOGY_BYTES = 1_048_576;
/** Most problems one `TopologyError` lists; the rest are counted. */
export const MAX_REPORTED_ISSUES = 50;
/** Most alias expansions the YAML parser performs (a "billion laughs" document is refused). */
export const MAX_ALIAS_COUNT = 1_000;

/** Where a decoding problem is: 1-based line and column, and the byte that is wrong. */
export interface BytePosition {
  line: number;
  column: number;
  byte: number;
}

/** Decodes `buf` as UTF-8, or returns where the first byte that is not UTF-8 is. */
export function decodeUtf8(buf: Buffer): { ok: true; text: string } | { ok: false; at: BytePosition } {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(buf) };
  } catch {
    const offset = firstInvalid(buf);
    const lineStart = buf.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (buf[i] === 0x0a) line++;
    const column = buf.subarray(lineStart, offset).toString("utf8").length + 1;
    return { ok: false, at: { line, column, byte: buf[offset] ?? 0 } };
  }
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalid(buf: Buffer): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > buf.length) return i;
    if (len > 1) {
      try {
        decoder.decode(buf.subarray(i, i + len));
      } catch {
        return i;
      }
    }
    i += len;
  }
  return buf.length;
}

/** Every key or string value of `data` holding a NUL byte, by key path. */
export function nulIssues(data: unknown): PathIssue[] {
  const out: PathIssue[] = [];
  const walk = (v: unknown, path: PropertyKey[]): void => {
    if (out.length >= MAX_REPORTED_ISSUES) return;
    if (typeof v === "string") {
      if (v.includes("\0"))
        out.push({
          path,
          message:
            "contains a NUL byte (`\\0`), which no command, argument, environment value or path can carry; remove it",
        });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        if (k.includes("\0"))
          out.push({
            path: [...path, k],
            at: "key",
            message: "the key contains a NUL byte (`\\0`); remove it",
          });
        else walk(x, [...path, k]);
      }
  };
  walk(data, []);
  return out;
}
