/**
 * @module edge/upstream/response-fields
 * The header fields of a response head: each checked (names are tokens, values free of control
 * characters — they are written on to clients), the framing fields read once (a second
 * `Content-Length`, even of the same value, or a list like `5, 5` is refused, as the request side
 * does), and the hop-by-hop fields taken out of the list handed on: `Connection` and every field it
 * names, `Keep-Alive` (its `timeout` kept as a hint), `Transfer-Encoding`, `Upgrade`, `TE`,
 * `Trailer`, `Proxy-Connection`.
 */
import { isHopByHop } from "../headers.js";
import { ResponseParseError } from "./response-error.js";

/** What the parser needs of a response's fields. */
export interface ResponseFields {
  /** End-to-end fields, flat `[name, value, …]` (hop-by-hop ones removed). */
  headers: string[];
  /** -1 when absent. */
  contentLength: number;
  /** All Transfer-Encoding fields, joined with `, `. */
  transferEncoding: string | undefined;
  upgrade: string | undefined;
  /** All Connection fields, joined with `, `. */
  connection: string | undefined;
  /** The replica's `Keep-Alive: timeout=N`, in ms, when it sent one. */
  keepAliveHintMs: number | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: HTAB, SP, visible ASCII, obs-text; no CR, LF, NUL or other controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Reads the field lines of a head, from `at` (the start of the first field line) to the end of `text`.
 * @throws ResponseParseError
 */
export function readFields(text: string, at: number): ResponseFields {
  const f: ResponseFields = {
    headers: [],
    contentLength: -1,
    transferEncoding: undefined,
    upgrade: undefined,
    connection: undefined,
    keepAliveHintMs: undefined,
  };
  const headers = f.headers;
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
      if (f.contentLength !== -1) throw new ResponseParseError("more than one Content-Length field");
      if (!/^\d{1,15}$/.test(value)) throw new ResponseParseError(`bad Content-Length \`${value}\``);
      f.contentLength = Number(value);
    } else if (len === 17 && name.toLowerCase() === "transfer-encoding") {
      f.transferEncoding = f.transferEncoding === undefined ? value : `${f.transferEncoding}, ${value}`;
      continue;
    } else if (len === 7 && name.toLowerCase() === "upgrade") {
      f.upgrade = value;
      continue;
    } else if (len === 10) {
      const lower = name.toLowerCase();
      if (lower === "connection") {
        f.connection = f.connection === undefined ? value : `${f.connection}, ${value}`;
        continue;
      }
      if (lower === "keep-alive") {
        const hint = /timeout\s*=\s*(\d+)/i.exec(value);
        if (hint) f.keepAliveHintMs = Number(hint[1]) * 1000;
        continue;
      }
    } else if (isHopByHop(name)) {
      continue;
    }
    headers.push(name, value);
  }
  return f;
}

/**
 * Whether the connection closes after this response (`close`, or HTTP/1.0 without `keep-alive`);
 * removes the fields the Connection field names from `f.headers`.
 */
export function connectionCloses(f: ResponseFields, http10: boolean): boolean {
  let close = http10;
  if (f.connection !== undefined) {
    const tokens = f.connection.toLowerCase().split(",");
    for (const t of tokens) {
      const token = t.trim();
      if (token === "close") close = true;
      else if (token === "keep-alive") close = false;
    }
    const extra = tokens.map((t) => t.trim()).filter((t) => t && t !== "close" && t !== "keep-alive");
    if (extra.length > 0) removeNamed(f.headers, new Set(extra));
  }
  return close;
}

/** Removes, in place, the fields of a flat header list whose lower-case names are in `names`. */
export function removeNamed(headers: string[], names: Set<string>): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r] as string;
    if (names.has(name.toLowerCase())) continue;
    headers[w++] = name;
    headers[w++] = headers[r + 1] as string;
  }
  headers.length = w;
}

/** `text` from `from` to `to`, without optional whitespace (SP, HTAB) at either end (RFC 9110 §5.6.3). */
function trimOws(text: string, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  return text.slice(a, b);
}
