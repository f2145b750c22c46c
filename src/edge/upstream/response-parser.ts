/**
 * @module edge/upstream/response-parser
 * A strict, incremental HTTP/1.1 response parser for upstream connections (RFC 9112): status line,
 * header fields, and the body framed by `Content-Length`, `Transfer-Encoding: chunked`, the
 * connection's close, or nothing (HEAD, 1xx, 204, 304). Hop-by-hop fields are removed from the
 * headers it hands on. Anything ambiguous (both framings, differing lengths, `chunked` not last,
 * bare LF, obsolete line folding, an oversized head) or unsafe to pass on (a status line that is
 * not `HTTP/1.0|1.1 3DIGIT reason` with a reason free of control characters) is a
 * `ResponseParseError`: the exchange answers `502` and the connection is not reused.
 *
 * Codings other than `chunked` are kept: `Transfer-Encoding: gzip, chunked` is handed on as is, so
 * the client's side re-chunks a body that stays gzip-coded. A `101 Switching Protocols` is accepted
 * only for an upgrade request (`reset(…, upgrade)`) and only with an `Upgrade` the client offered.
 *
 * Node's http client does the same with more machinery per request; this parser is what makes the
 * edge reach its throughput target (see docs/edge.md, "Performance").
 */
import { isHopByHop } from "../headers.js";

/** What the parser reports, in order: one head, then body pieces, the last one with `done`. */
export interface ResponseSink {
  /** The final (non-1xx) head; `headers` is a flat `[name, value, …]` list without hop-by-hop fields. */
  onHead(status: number, reason: string, headers: string[]): void;
  /** A piece of the decoded body (`null` for none); `done` when the response is complete. */
  onData(chunk: Buffer | null, done: boolean): void;
  /** A `101 Switching Protocols` to an upgrade request; the bytes after it belong to the new protocol. */
  onSwitch?(reason: string, headers: string[], upgrade: string): void;
}

export class ResponseParseError extends Error {
  constructor(message: string) {
    super(`invalid response from the replica: ${message}`);
    this.name = "ResponseParseError";
  }
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Close,
  Done,
  /** After a 101: the connection carries another protocol. */
  Switched,
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9112 §4: HTTP-version SP 3DIGIT SP reason-phrase (the reason may be absent, as llhttp allows). */
const STATUS_LINE = /^HTTP\/1\.[01] \d{3}(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** Field values: HTAB, SP, visible ASCII, obs-text; no CR, LF, NUL or other controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CRLF = Buffer.from("\r\n");
/** Largest response head accepted (status line and fields). */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;

export class ResponseParser {
  #state = State.Done;
  #pending: Buffer | null = null;
  #remaining = 0;
  #headRequest = false;
  /** The protocols an upgrade request offered (lower case), or null. */
  #upgrade: string[] | null = null;
  /** True when the connection may carry another request after this response. */
  keepAlive = true;
  /** The replica's `Keep-Alive: timeout=N` in ms, when it sent one. */
  keepAliveHintMs: number | undefined;

  constructor(readonly sink: ResponseSink) {}

  /**
   * Prepares for the response to the next request.
   * @param upgrade the `Upgrade` field of an upgrade request (a 101 is accepted only then)
   */
  reset(headRequest: boolean, upgrade?: string): void {
    this.#state = State.Head;
    this.#pending = null;
    this.#remaining = 0;
    this.#headRequest = headRequest;
    this.#upgrade = upgrade === undefined ? null : protocols(upgrade);
    this.keepAlive = true;
  }

  /** True once the whole response was parsed. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** True after a `101 Switching Protocols` was accepted. */
  get switched(): boolean {
    return this.#state === State.Switched;
  }

  /** True while the body is delimited by the connection's close. */
  get untilClose(): boolean {
    return this.#state === State.Close;
  }

  /** True before the final head arrived. */
  get awaitingHead(): boolean {
    return this.#state === State.Head;
  }

  /**
   * Feeds bytes from the connection. `chunk` is not kept: the pieces handed to `onData` are views
   * of it, valid during the call only (the connection reads into one shared buffer), and bytes
   * kept for the next call are copied.
   * @returns bytes received after the complete response (a replica must not send any), or 0.
   * @throws ResponseParseError
   */
  execute(chunk: Buffer): number {
    let buf = chunk;
    if (this.#pending !== null) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    let at = 0;
    const end = buf.length;
    while (at < end) {
      switch (this.#state) {
        case State.Head: {
          const stop = buf.indexOf(CRLFCRLF, at);
          if (stop < 0) {
            if (end - at > MAX_HEAD_BYTES)
              throw new ResponseParseError(`head larger than ${MAX_HEAD_BYTES} bytes`);
            this.#pending = Buffer.from(buf.subarray(at));
            return 0;
          }
          if (stop - at > MAX_HEAD_BYTES)
            throw new ResponseParseError(`head larger than ${MAX_HEAD_BYTES} bytes`);
          const text = buf.toString("latin1", at, stop);
          at = stop + 4;
          this.#head(text);
          if ((this.#state as State) === State.Done) {
            this.sink.onData(null, true);
            return end - at;
          }
          if ((this.#state as State) === State.Switched) return end - at;
          break;
        }
        case State.Length: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          const done = this.#remaining === 0;
          if (done) this.#state = State.Done;
          this.sink.onData(take === end && at === 0 ? buf : buf.subarray(at, at + take), done);
          at += take;
          if (done) return end - at;
          break;
        }
        case State.Close:
          this.sink.onData(at === 0 ? buf : buf.subarray(at), false);
          return 0;
        case State.ChunkSize: {
          const stop = buf.indexOf(CRLF, at);
          if (stop < 0) {
            if (end - at > MAX_LINE_BYTES) throw new ResponseParseError("chunk size line too long");
            this.#pending = Buffer.from(buf.subarray(at));
            return 0;
          }
          this.#remaining = chunkSize(buf.toString("latin1", at, stop));
          at = stop + 2;
          this.#state = this.#remaining === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          this.sink.onData(buf.subarray(at, at + take), false);
          at += take;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          if (end - at < 2) {
            this.#pending = Buffer.from(buf.subarray(at));
            return 0;
          }
          if (buf[at] !== 13 || buf[at + 1] !== 10)
            throw new ResponseParseError("chunk not followed by CRLF");
          at += 2;
          this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          // Trailer fields are read and dropped; an empty line ends the message.
          const stop = buf.indexOf(CRLF, at);
          if (stop < 0) {
            if (end - at > MAX_HEAD_BYTES) throw new ResponseParseError("trailers too long");
            this.#pending = Buffer.from(buf.subarray(at));
            return 0;
          }
          const empty = stop === at;
          at = stop + 2;
          if (empty) {
            this.#state = State.Done;
            this.sink.onData(null, true);
            return end - at;
          }
          break;
        }
        case State.Done:
        case State.Switched:
          return end - at;
      }
    }
    return 0;
  }

  /**
   * The replica closed the connection: completes a close-delimited body.
   * @throws ResponseParseError when the response was incomplete.
   */
  eof(): void {
    if (this.#state === State.Close) {
      this.#state = State.Done;
      this.sink.onData(null, true);
      return;
    }
    if (this.#state !== State.Done) {
      throw new ResponseParseError(
        this.#state === State.Head ? "connection closed before a response" : "connection closed mid-body",
      );
    }
  }

  /** A 101: valid only for an upgrade request, and only to a protocol the client offered. */
  #switch(statusLine: string, headers: string[], upgrade: string | undefined): void {
    if (this.#upgrade === null || this.sink.onSwitch === undefined)
      throw new ResponseParseError("101 Switching Protocols to a request without Upgrade");
    const chosen = upgrade === undefined ? [] : protocols(upgrade);
    const offered = this.#upgrade;
    if (chosen.length === 0 || !chosen.every((p) => offered.includes(p)))
      throw new ResponseParseError(
        `101 Switching Protocols to \`${upgrade ?? ""}\`, which the client did not offer`,
      );
    this.#state = State.Switched;
    this.keepAlive = false;
    this.sink.onSwitch(statusLine.length > 13 ? statusLine.slice(13) : "", headers, upgrade as string);
  }

  #head(text: string): void {
    let eol = text.indexOf("\r\n");
    if (eol < 0) eol = text.length;
    const statusLine = text.slice(0, eol);
    const status = Number(statusLine.slice(9, 12));
    if (!STATUS_LINE.test(statusLine) || status < 100) {
      throw new ResponseParseError(
        `bad status line \`${JSON.stringify(statusLine.slice(0, 60)).slice(1, -1)}\``,
      );
    }
    const http10 = statusLine.charCodeAt(7) === 48;
    const headers: string[] = [];
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let upgrade: string | undefined;
    let connection: string | undefined;
    // Names must be tokens and values free of control characters: they are written on to clients.
    let at = eol + 2;
    while (at < text.length) {
      let next = text.indexOf("\r\n", at);
      if (next < 0) next = text.length;
      const colon = text.indexOf(":", at);
      if (colon <= at || colon > next) {
        throw new ResponseParseError(`bad header line \`${text.slice(at, Math.min(next, at + 60))}\``);
      }
      const name = text.slice(at, colon);
      const value = trimOws(text, colon + 1, next);
      at = next + 2;
      if (!TOKEN.test(name)) throw new ResponseParseError(`bad header name \`${name.slice(0, 60)}\``);
      if (!FIELD_VALUE.test(value)) throw new ResponseParseError(`control character in header \`${name}\``);
      const len = name.length;
      if (len === 14 && name.toLowerCase() === "content-length") {
        // One field, one number: a repeat (even of the same value) or a list (`5, 5`) is refused,
        // as the request side does, so no reader downstream can pick another one.
        if (contentLength !== -1) throw new ResponseParseError("more than one Content-Length field");
        if (!/^\d{1,15}$/.test(value)) throw new ResponseParseError(`bad Content-Length \`${value}\``);
        contentLength = Number(value);
      } else if (len === 17 && name.toLowerCase() === "transfer-encoding") {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        continue;
      } else if (len === 7 && name.toLowerCase() === "upgrade") {
        upgrade = value;
        continue;
      } else if (len === 10) {
        const lower = name.toLowerCase();
        if (lower === "connection") {
          connection = connection === undefined ? value : `${connection}, ${value}`;
          continue;
        }
        if (lower === "keep-alive") {
          const hint = /timeout\s*=\s*(\d+)/i.exec(value);
          if (hint) this.keepAliveHintMs = Number(hint[1]) * 1000;
          continue;
        }
      } else if (isHopByHop(name)) {
        continue;
      }
      headers.push(name, value);
    }

    if (status < 200) {
      if (status === 101) this.#switch(statusLine, headers, upgrade);
      return; // 1xx informational: wait for the final head (state stays Head)
    }

    let close = http10;
    if (connection !== undefined) {
      const tokens = connection.toLowerCase().split(",");
      for (const t of tokens) {
        const token = t.trim();
        if (token === "close") close = true;
        else if (token === "keep-alive") close = false;
      }
      const extra = tokens.map((t) => t.trim()).filter((t) => t && t !== "close" && t !== "keep-alive");
      if (extra.length > 0) removeNamed(headers, new Set(extra));
    }
    this.keepAlive = !close;

    // Both framings: which one the replica meant is a guess (RFC 9112 §6.3 says TE, some readers CL).
    if (transferEncoding !== undefined && contentLength !== -1)
      throw new ResponseParseError("both Transfer-Encoding and Content-Length");
    const bodyless = this.#headRequest || status === 204 || status === 304;
    // RFC 9110 §8.6: no Content-Length in a 204. A 304's (and a HEAD's) is kept: it describes the resource.
    if (status === 204 && contentLength !== -1) removeNamed(headers, new Set(["content-length"]));
    let chunked = false;
    if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(",").map((c) => c.trim().toLowerCase());
      // Every coding a token: an empty one (`Transfer-Encoding:`, `, chunked`) or one with
      // parameters leaves the framing to each reader's guess.
      if (!codings.every((c) => TOKEN.test(c)))
        throw new ResponseParseError(`bad Transfer-Encoding \`${transferEncoding.slice(0, 60)}\``);
      const last = codings.length - 1;
      if (codings.indexOf("chunked") < last && codings.includes("chunked"))
        throw new ResponseParseError(`chunked not last in Transfer-Encoding \`${transferEncoding}\``);
      chunked = codings[last] === "chunked";
      const other = (chunked ? codings.slice(0, last) : codings).filter((c) => c !== "");
      // Keep the other codings; the client side redoes the chunking.
      if (other.length > 0 && !bodyless) headers.push("Transfer-Encoding", `${other.join(", ")}, chunked`);
    }
    this.sink.onHead(status, statusLine.length > 13 ? statusLine.slice(13) : "", headers);

    if (bodyless) {
      this.#state = State.Done;
    } else if (transferEncoding !== undefined) {
      if (chunked) {
        this.#state = State.ChunkSize;
      } else {
        this.#state = State.Close;
        this.keepAlive = false;
      }
    } else if (contentLength >= 0) {
      this.#remaining = contentLength;
      this.#state = contentLength === 0 ? State.Done : State.Length;
    } else {
      this.#state = State.Close;
      this.keepAlive = false;
    }
  }
}

/** The protocol names of an Upgrade field, lower case, without versions' surrounding spaces. */
function protocols(value: string): string[] {
  return value
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== "");
}

/** `text` from `from` to `to`, without optional whitespace (SP, HTAB) at either end (RFC 9110 §5.6.3). */
function trimOws(text: string, from: number, to: number): string {
  const line = text;
  let a = from;
  let b = to;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  return line.slice(a, b);
}

/** `1*HEXDIG *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )` (RFC 9112 §7.1.1). */
const CHUNK_LINE =
  /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;

function chunkSize(line: string): number {
  const m = CHUNK_LINE.exec(line);
  if (m === null)
    throw new ResponseParseError(`bad chunk size line \`${JSON.stringify(line.slice(0, 40))}\``);
  return parseInt(m[1] as string, 16);
}

/** Removes, in place, the fields of a flat header list whose lower-case names are in `names`. */
function removeNamed(headers: string[], names: Set<string>): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r] as string;
    if (names.has(name.toLowerCase())) continue;
    headers[w++] = name;
    headers[w++] = headers[r + 1] as string;
  }
  headers.length = w;
}
