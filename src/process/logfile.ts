/**
 * @module process/logfile
 * Replica log files: size-based rotation that works while the replica keeps writing through its
 * own `O_APPEND` descriptor, reading the last lines, and following a file as it grows.
 */
import { constants } from "node:fs";
import { copyFile, open, rename, stat, truncate, unlink } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import type { LogSpec } from "../topology/types.js";

async function size(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

async function ignoreMissing(op: Promise<unknown>): Promise<void> {
  try {
    await op;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Appends bytes `[from, to)` of `src` to `dest`. */
async function appendRange(src: string, dest: string, from: number, to: number): Promise<void> {
  const input = await open(src, "r");
  const output = await open(dest, constants.O_WRONLY | constants.O_APPEND);
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let pos = from; pos < to;) {
      const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, to - pos), pos);
      if (bytesRead === 0) break;
      await output.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}

/**
 * Rotates `file` when it has reached `maxBytes`: `file.<keep-1>` → `file.<keep>` … `file` →
 * `file.1`, the oldest dropped. Returns true when it rotated.
 *
 * The replica holds its own descriptor to `file`, so the file cannot be renamed away: it is
 * *copied* to `file.1` and then truncated in place. Because the writer uses `O_APPEND`, its next
 * write lands at the new end (offset 0), not at its old offset (no sparse hole). Bytes written
 * after the copy are appended to `file.1` just before the truncate, so the only loss window is
 * between that last catch-up read and the truncate: microseconds, during which a line may be lost.
 *
 * @example await rotateIfNeeded(logFile, { maxBytes: 10 * 1024 * 1024, keep: 5 })
 */
export async function rotateIfNeeded(file: string, spec: LogSpec): Promise<boolean> {
  const current = await size(file);
  if (current === undefined || current < spec.maxBytes) return false;
  if (spec.keep > 0) {
    await ignoreMissing(unlink(`${file}.${spec.keep}`));
    for (let i = spec.keep - 1; i >= 1; i--) await ignoreMissing(rename(`${file}.${i}`, `${file}.${i + 1}`));
    await copyFile(file, `${file}.1`);
    const copied = (await size(`${file}.1`)) ?? 0;
    const now = (await size(file)) ?? copied;
    if (now > copied) await appendRange(file, `${file}.1`, copied, now);
  }
  await truncate(file, 0);
  return true;
}

/**
 * The last `n` lines of `file` (without line terminators), read backwards from the end in blocks,
 * so a large file costs only what is returned. A missing file has no lines.
 *
 * @example await tailLines(logFile, 50)
 */
export async function tailLines(file: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  let fh;
  try {
    fh = await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  try {
    const { size: end } = await fh.stat();
    const blocks: Buffer[] = [];
    let pos = end;
    let newlines = 0;
    // n lines need n+1 newlines when the last line is terminated (and n otherwise); read until then.
    while (pos > 0 && newlines <= n) {
      const len = Math.min(64 * 1024, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      blocks.unshift(buf);
      for (const byte of buf) if (byte === 0x0a) newlines++;
    }
    const lines = Buffer.concat(blocks).toString("utf8").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n).map((line) => line.replace(/\r$/, ""));
  } finally {
    await fh.close();
  }
}

export interface FollowOptions {
  /** Time between two checks of the file. @default 100 */
  pollMs?: number;
}

/**
 * Calls `onChunk` with the text appended to `file` from `fromOffset` on, checking every `pollMs`.
 * When the file shrinks (rotated by truncation) it is read again from its start; a missing file
 * is waited for. Returns `stop()`.
 *
 * @example const stop = follow(logFile, 0, (text) => process.stdout.write(text)); … stop();
 */
export function follow(
  file: string,
  fromOffset: number,
  onChunk: (text: string) => void,
  opts: FollowOptions = {},
): () => void {
  const pollMs = opts.pollMs ?? 100;
  let offset = fromOffset;
  let decoder = new StringDecoder("utf8");
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const poll = async (): Promise<void> => {
    let fh;
    try {
      fh = await open(file, "r");
    } catch {
      return; // not there yet, or gone while being rotated
    }
    try {
      const { size: end } = await fh.stat();
      if (end < offset) {
        offset = 0;
        decoder = new StringDecoder("utf8");
      }
      const buf = Buffer.allocUnsafe(64 * 1024);
      while (offset < end && !stopped) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - offset), offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = decoder.write(buf.subarray(0, bytesRead));
        if (text) onChunk(text);
      }
    } finally {
      await fh.close();
    }
  };

  const loop = (): void => {
    poll()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
