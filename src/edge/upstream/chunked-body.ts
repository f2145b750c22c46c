/**
 * @module edge/upstream/chunked-body
 * Decodes a chunked response body (RFC 9112 §7.1): size lines (strictly: hex digits, then
 * well-formed extensions, which are dropped), chunk data handed on as views of the input, the CRLF
 * after each chunk, and trailer fields, read and dropped (the edge does not forward trailers) up to
 * the empty line that ends the message.
 */
import { ResponseParseError } from "./response-error.js";

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
}

const CRLF = Buffer.from("\r\n");
const MAX_LINE_BYTES = 4096;
/** Largest trailer section accepted (as for a head). */
const MAX_TRAILER_BYTES = 64 * 1024;

/** Where decoded body pieces go: views of the input, valid during the call only. */
export interface ChunkSink {
  onData(chunk: Buffer | null, done: boolean): void;
}

export class ChunkedBody {
  #state = Chunk.Size;
  #remaining = 0;
  /** The body ended (the trailers' empty line was read). */
  done = false;

  reset(): void {
    this.#state = Chunk.Size;
    this.#remaining = 0;
    this.done = false;
  }

  /**
   * Decodes `buf` from `at` to `end`, until the input runs out, a line is incomplete, or the body
   * ends (`done`; the final `onData(null, true)` is the caller's).
   * @returns where it stopped: the bytes from there on are an incomplete line to keep for the next
   *   call or, when `done`, bytes after the message
   * @throws ResponseParseError
   */
  read(buf: Buffer, at: number, end: number, sink: ChunkSink): number {
    while (at < end) {
      switch (this.#state) {
        case Chunk.Size: {
          const stop = buf.indexOf(CRLF, at);
          if (stop < 0) {
            if (end - at > MAX_LINE_BYTES) throw new ResponseParseError("chunk size line too long");
            return at;
          }
          this.#remaining = chunkSize(buf.toString("latin1", at, stop));
          at = stop + 2;
          this.#state = this.#remaining === 0 ? Chunk.Trailers : Chunk.Data;
          break;
        }
        case Chunk.Data: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          sink.onData(buf.subarray(at, at + take), false);
          at += take;
          if (this.#remaining === 0) this.#state = Chunk.DataEnd;
          break;
        }
        case Chunk.DataEnd: {
          if (end - at < 2) return at;
          if (buf[at] !== 13 || buf[at + 1] !== 10)
            throw new ResponseParseError("chunk not followed by CRLF");
          at += 2;
          this.#state = Chunk.Size;
          break;
        }
        case Chunk.Trailers: {
          const stop = buf.indexOf(CRLF, at);
          if (stop < 0) {
            if (end - at > MAX_TRAILER_BYTES) throw new ResponseParseError("trailers too long");
            return at;
          }
          const empty = stop === at;
          at = stop + 2;
          if (empty) {
            this.done = true;
            return at;
          }
          break;
        }
      }
    }
    return at;
  }
}

/** `1*HEXDIG *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` (RFC 9112 §7.1.1). */
const CHUNK_LINE =
  /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;

/**
 * The size of a chunk from its size line (extensions are checked and dropped).
 * @throws ResponseParseError
 */
export function chunkSize(line: string): number {
  const m = CHUNK_LINE.exec(line);
  if (m === null)
    throw new ResponseParseError(`bad chunk size line \`${JSON.stringify(line.slice(0, 40))}\``);
  return parseInt(m[1] as string, 16);
}
