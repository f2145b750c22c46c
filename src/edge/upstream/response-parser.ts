/**
 * @module edge/upstream/response-parser
 * A strict, incremental HTTP/1.1 response parser for upstream connections (RFC 9112): the state
 * machine that reads a head, then the body as its framing says, piece by piece. Each concept has
 * its file: the status line (`status-line`), the header fields and hop-by-hop removal
 * (`response-fields`), how the body is delimited (`body-framing`), chunked bodies (`chunked-body`),
 * the check of a `101 Switching Protocols` (`switch-protocols`). Anything ambiguous or unsafe to
 * pass on is a `ResponseParseError`: the exchange answers `502` and the connection is not reused.
 *
 * Node's http client does the same with more machinery per request; this parser is what makes the
 * edge reach its throughput target (see docs/edge.md, "Performance").
 */
import { Body, bodyFraming } from "./body-framing.js";
import { ChunkedBody } from "./chunked-body.js";
import { ResponseParseError } from "./response-error.js";
import { connectionCloses, readFields } from "./response-fields.js";
import { isHttp10, reasonOf, statusOf } from "./status-line.js";
import { checkSwitch, protocols } from "./switch-protocols.js";

export { ResponseParseError } from "./response-error.js";

/** What the parser reports, in order: one head, then body pieces, the last one with `done`. */
export interface ResponseSink {
  /** The final (non-1xx) head; `headers` is a flat `[name, value, …]` list without hop-by-hop fields. */
  onHead(status: number, reason: string, headers: string[]): void;
  /** A piece of the decoded body (`null` for none); `done` when the response is complete. */
  onData(chunk: Buffer | null, done: boolean): void;
  /** A `101 Switching Protocols` to an upgrade request; the bytes after it belong to the new protocol. */
  onSwitch?(reason: string, headers: string[], upgrade: string): void;
}

const enum State {
  Head,
  Length,
  Chunked,
  Close,
  Done,
  /** After a 101: the connection carries another protocol. */
  Switched,
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** Largest response head accepted (status line and fields). */
export const MAX_HEAD_BYTES = 64 * 1024;

export class ResponseParser {
  #state = State.Done;
  #pending: Buffer | null = null;
  #remaining = 0;
  readonly #chunked = new ChunkedBody();
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
        case State.Chunked: {
          at = this.#chunked.read(buf, at, end, this.sink);
          if (this.#chunked.done) {
            this.#state = State.Done;
            this.sink.onData(null, true);
            return end - at;
          }
          if (at < end) this.#pending = Buffer.from(buf.subarray(at));
          return 0;
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

  #head(text: string): void {
    let eol = text.indexOf("\r\n");
    if (eol < 0) eol = text.length;
    const statusLine = text.slice(0, eol);
    const status = statusOf(statusLine);
    const f = readFields(text, eol + 2);
    if (f.keepAliveHintMs !== undefined) this.keepAliveHintMs = f.keepAliveHintMs;
    if (status < 200) {
      if (status !== 101) return; // 1xx informational: wait for the final head (state stays Head)
      checkSwitch(this.sink.onSwitch === undefined ? null : this.#upgrade, f.upgrade);
      this.#state = State.Switched;
      this.keepAlive = false;
      this.sink.onSwitch?.(reasonOf(statusLine), f.headers, f.upgrade as string);
      return;
    }
    this.keepAlive = !connectionCloses(f, isHttp10(statusLine));
    const body = bodyFraming(f, status, this.#headRequest);
    this.sink.onHead(status, reasonOf(statusLine), f.headers);
    switch (body) {
      case Body.None:
        this.#state = State.Done;
        break;
      case Body.Chunked:
        this.#chunked.reset();
        this.#state = State.Chunked;
        break;
      case Body.Length:
        this.#remaining = f.contentLength;
        this.#state = f.contentLength === 0 ? State.Done : State.Length;
        break;
      case Body.Close:
        this.#state = State.Close;
        this.keepAlive = false;
        break;
    }
  }
}
