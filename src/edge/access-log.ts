/**
 * @module edge/access-log
 * The edge's access log: one JSON line per request, appended to `<home>/logs/edge/access.log` and
 * rotated like replica logs (`process/logfile`). Lines are collected in memory and written in
 * batches — one asynchronous write at a time, on libuv's thread pool — so logging never blocks the
 * event loop and a slow disk never stalls the edge: past `maxBufferedBytes` waiting to be written,
 * lines are dropped and counted instead.
 */
import { mkdirSync } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { rotateIfNeeded } from "../process/logfile.js";
import type { LogSpec } from "../topology/types.js";

export interface AccessLogOptions {
  /** Rotation: size and files kept. */
  rotate: LogSpec;
  /** Longest time a line waits in memory. @default 200 */
  flushMs?: number;
  /** Buffered bytes that trigger a write at once. @default 64 KiB */
  batchBytes?: number;
  /** Bytes waiting to be written beyond which new lines are dropped (disk stalled). @default 8 MiB */
  maxBufferedBytes?: number;
  /** Told once per batch of dropped lines and on write errors. */
  warn?: (message: string) => void;
}

export class AccessLog {
  /** Lines waiting, and their length in UTF-16 units (close enough to bytes for the caps). */
  #lines: string[] = [];
  #buffered = 0;
  #size = 0;
  #fh: FileHandle | null = null;
  #writing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Lines dropped because the disk did not keep up (since the last warning). */
  #dropped = 0;
  /** Lines written, dropped, in all. */
  readonly counts = { written: 0, dropped: 0 };
  readonly #flushMs: number;
  readonly #batchBytes: number;
  readonly #maxBuffered: number;

  private constructor(
    readonly file: string,
    readonly options: AccessLogOptions,
  ) {
    this.#flushMs = options.flushMs ?? 200;
    this.#batchBytes = options.batchBytes ?? 64 * 1024;
    this.#maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  }

  /** Opens (creates) the file for appending. */
  static async open(file: string, options: AccessLogOptions): Promise<AccessLog> {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const log = new AccessLog(file, options);
    log.#fh = await open(file, "a", 0o600);
    log.#size = (await stat(file)).size;
    return log;
  }

  /** Queues one line (without its newline). Never blocks; drops the line when the disk is far behind. */
  write(line: string): void {
    if (this.#closed) return;
    if (this.#buffered > this.#maxBuffered) {
      this.#dropped += 1;
      this.counts.dropped += 1;
      return;
    }
    this.#lines.push(line);
    this.#buffered += line.length + 1;
    if (this.#buffered >= this.#batchBytes) this.#flush();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Writes what is buffered, waits for it. */
  async flush(): Promise<void> {
    while (this.#lines.length > 0 || this.#writing !== null) {
      this.#flush();
      await this.#writing;
    }
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#fh?.close();
    this.#fh = null;
  }

  #flush(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#writing !== null || this.#lines.length === 0 || this.#fh === null) return;
    const text = `${this.#lines.join("\n")}\n`;
    const n = this.#lines.length;
    this.#lines = [];
    this.#buffered = 0;
    this.#writing = this.#writeBatch(text, n).finally(() => {
      this.#writing = null;
      // Lines that came in meanwhile: the next batch now, or on the timer.
      if (this.#buffered >= this.#batchBytes) this.#flush();
      else if (this.#lines.length > 0 && this.#timer === null && !this.#closed) {
        this.#timer = setTimeout(() => this.#flush(), this.#flushMs);
        this.#timer.unref();
      }
    });
  }

  async #writeBatch(text: string, lines: number): Promise<void> {
    const fh = this.#fh;
    if (fh === null) return;
    try {
      const buf = Buffer.from(text, "utf8");
      await fh.write(buf);
      this.#size += buf.length;
      this.counts.written += lines;
      if (this.#dropped > 0) {
        this.options.warn?.(`access log: ${this.#dropped} line(s) dropped, the disk did not keep up`);
        this.#dropped = 0;
      }
      // The file is opened O_APPEND: after rotation's truncate, the next write lands at its start.
      if (this.#size >= this.options.rotate.maxBytes) {
        await rotateIfNeeded(this.file, this.options.rotate);
        this.#size = (await stat(this.file)).size;
      }
    } catch (err) {
      this.options.warn?.(`access log: cannot write ${this.file}: ${(err as Error).message}`);
    }
  }
}
