/**
 * @module edge/upstream/body-framing
 * How a response's body is delimited (RFC 9112 §6.3): nothing (HEAD, 204, 304), `Content-Length`
 * bytes, `Transfer-Encoding` ending with `chunked`, or the connection's close. Both framings at once
 * are refused (which one the replica meant is a guess), and so are `chunked` not last or twice and
 * a coding that is not a token (empty, or with parameters). Codings other than `chunked` are kept:
 * `gzip, chunked` is handed on as is, and the client's side re-chunks a body that stays gzip-coded.
 */
import { ResponseParseError } from "./response-error.js";
import { removeNamed, type ResponseFields } from "./response-fields.js";

/** How the body of a response is delimited. */
export const Body = {
  /** No body (HEAD, 204, 304, or a length of 0 — see `Length`). */
  None: 0,
  /** `contentLength` bytes (0 included). */
  Length: 1,
  /** Chunked. */
  Chunked: 2,
  /** Until the replica closes the connection. */
  Close: 3,
} as const;
export type Body = (typeof Body)[keyof typeof Body];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The framing of a final response's body. Edits `f.headers`: a 204's Content-Length goes (RFC 9110
 * §8.6; a 304's and a HEAD's is kept: it describes the resource), codings besides `chunked` are
 * put back as `Transfer-Encoding: <codings>, chunked`.
 * @throws ResponseParseError
 */
export function bodyFraming(f: ResponseFields, status: number, headRequest: boolean): Body {
  const te = f.transferEncoding;
  if (te !== undefined && f.contentLength !== -1)
    throw new ResponseParseError("both Transfer-Encoding and Content-Length");
  const bodyless = headRequest || status === 204 || status === 304;
  if (status === 204 && f.contentLength !== -1) removeNamed(f.headers, new Set(["content-length"]));
  let chunked = false;
  if (te !== undefined) {
    const codings = te.split(",").map((c) => c.trim().toLowerCase());
    // Every coding a token: an empty one (`Transfer-Encoding:`, `, chunked`) or one with
    // parameters leaves the framing to each reader's guess.
    if (!codings.every((c) => TOKEN.test(c)))
      throw new ResponseParseError(`bad Transfer-Encoding \`${te.slice(0, 60)}\``);
    const last = codings.length - 1;
    if (codings.indexOf("chunked") < last && codings.includes("chunked"))
      throw new ResponseParseError(`chunked not last in Transfer-Encoding \`${te}\``);
    chunked = codings[last] === "chunked";
    const other = (chunked ? codings.slice(0, last) : codings).filter((c) => c !== "");
    // Keep the other codings; the client side redoes the chunking.
    if (other.length > 0 && !bodyless) f.headers.push("Transfer-Encoding", `${other.join(", ")}, chunked`);
  }
  if (bodyless) return Body.None;
  if (te !== undefined) return chunked ? Body.Chunked : Body.Close;
  return f.contentLength >= 0 ? Body.Length : Body.Close;
}
