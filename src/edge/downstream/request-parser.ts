/**
 * @module edge/downstream/request-parser
 * The request heads the edge's fast path takes itself: a conservative, strict subset of HTTP/1.1
 * (RFC 9112) — `METHOD /origin-form HTTP/1.1`, well-formed fields, exactly one Host, at most one
 * Content-Length, no Transfer-Encoding, Upgrade or Expect. Anything else is not refused here but
 * handed, untouched, to node's HTTP server (`"fallback"`), whose parser (llhttp) is the authority
 * on unusual and malformed requests.
 */
import { METHODS as METHODS_LIST } from "node:http";

export interface ParsedRequest {
  method: string;
  /** The request target as sent (origin-form). */
  url: string;
  /** Field names and values as sent, flat: `[name, value, …]`. */
  rawHeaders: string[];
  /** 0 when absent. */
  contentLength: number;
  /** False when the client sent `Connection: close`. */
  keepAlive: boolean;
  /** Bytes of the head, with its final empty line. */
  headBytes: number;
}

/** Not enough bytes yet for a head. */
export const INCOMPLETE = 0;
/** Not for the fast path: hand the connection to node's HTTP server. */
export const FALLBACK = 1;

const CRLFCRLF = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: HTAB, SP, visible ASCII, obs-text; nothing else (no CR, LF, NUL or other controls). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Origin-form targets: visible ASCII only. */
const TARGET = /^\/[\x21-\x7e]*$/;
/** The methods node's parser knows (others are its to refuse). */
const METHODS = new Set(METHODS_LIST.filter((m) => m !== "CONNECT"));

/**
 * A LF not preceded by CR: the head will never end with CRLFCRLF, so it is handed to node at once
 * (which answers 400) instead of waiting for the head timeout.
 */
function hasBareLf(buf: Buffer): boolean {
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1))
    if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

/**
 * Parses the head at the start of `buf`.
 * @param maxHeadBytes heads longer than this go to node (which answers 431)
 * @returns the request, `INCOMPLETE`, or `FALLBACK`
 */
export function parseRequestHead(
  buf: Buffer,
  maxHeadBytes: number,
): ParsedRequest | typeof INCOMPLETE | typeof FALLBACK {
  const stop = buf.indexOf(CRLFCRLF);
  if (stop < 0) return buf.length > maxHeadBytes || hasBareLf(buf) ? FALLBACK : INCOMPLETE;
  if (stop + 4 > maxHeadBytes) return FALLBACK;
  const text = buf.toString("latin1", 0, stop);

  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  // Request line: METHOD SP origin-form SP HTTP/1.1
  const sp1 = text.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : text.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 > eol || eol - sp2 !== 9 || !text.startsWith("HTTP/1.1", sp2 + 1))
    return FALLBACK;
  const method = text.slice(0, sp1);
  const url = text.slice(sp1 + 1, sp2);
  if (!METHODS.has(method) || !TARGET.test(url)) return FALLBACK;

  const rawHeaders: string[] = [];
  let contentLength = -1;
  let hosts = 0;
  let keepAlive = true;
  let at = eol + 2;
  while (at < text.length) {
    let next = text.indexOf("\r\n", at);
    if (next < 0) next = text.length;
    const colon = text.indexOf(":", at);
    if (colon <= at || colon > next) return FALLBACK;
    const name = text.slice(at, colon);
    let a = colon + 1;
    let b = next;
    while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
    while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
    const value = text.slice(a, b);
    at = next + 2;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return FALLBACK;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") hosts++;
        break;
      case 6:
        if (name.toLowerCase() === "expect") return FALLBACK;
        break;
      case 7:
        if (name.toLowerCase() === "upgrade") return FALLBACK;
        break;
      case 10:
        if (name.toLowerCase() === "connection") {
          for (const raw of value.split(",")) {
            const token = raw.trim().toLowerCase();
            if (token === "close") keepAlive = false;
            else if (token === "upgrade") return FALLBACK;
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === "content-length") {
          if (contentLength !== -1 || !/^\d{1,15}$/.test(value)) return FALLBACK;
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") return FALLBACK;
        break;
    }
    rawHeaders.push(name, value);
  }
  if (hosts !== 1) return FALLBACK;
  return {
    method,
    url,
    rawHeaders,
    contentLength: Math.max(0, contentLength),
    keepAlive,
    headBytes: stop + 4,
  };
}
