/**
 * @module edge/upstream/status-line
 * A response's status line (RFC 9112 §4): `HTTP/1.0|1.1 3DIGIT [reason]`, the reason free of
 * control characters. Anything else (`HTTP/1.9`, `2e2`, a bare CR, LF or NUL in the reason: header
 * injection on the client's side) is refused — the client side writes the reason on as is.
 */
import { ResponseParseError } from "./response-error.js";

/** HTTP-version SP 3DIGIT SP reason-phrase (the reason may be absent, as llhttp allows). */
const STATUS_LINE = /^HTTP\/1\.[01] \d{3}(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/**
 * The status code of a valid status line.
 * @throws ResponseParseError for a line that is not `HTTP/1.0|1.1 3DIGIT reason`, or a status under 100
 */
export function statusOf(line: string): number {
  const status = Number(line.slice(9, 12));
  if (!STATUS_LINE.test(line) || status < 100) {
    throw new ResponseParseError(`bad status line \`${JSON.stringify(line.slice(0, 60)).slice(1, -1)}\``);
  }
  return status;
}

/** The reason phrase of a valid status line ("" when absent). */
export function reasonOf(line: string): string {
  return line.length > 13 ? line.slice(13) : "";
}

/** True for an `HTTP/1.0` status line (its connection closes unless it says keep-alive). */
export function isHttp10(line: string): boolean {
  return line.charCodeAt(7) === 48;
}
