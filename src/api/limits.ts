/**
 * @module api/limits
 * What the control API accepts: bodies of at most {@link MAX_BODY_BYTES}, and numbers in their
 * range. A body over the limit is refused from its `Content-Length` before a byte is read, or — sent
 * chunked — as soon as the bytes counted pass the limit, so a huge body never sits in memory. A
 * number out of range names its field and the range: a duration past what a timer can wait would
 * otherwise fire at once (Node clamps it to 1 ms).
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BadRequestError, StewardError } from "../errors.js";
import { MAX_DURATION_MS } from "../topology/duration.js";

/** Largest request body the control API reads: 1 MiB (every body it takes is a few hundred bytes). */
export const MAX_BODY_BYTES = 1_048_576;

/** A request body over {@link MAX_BODY_BYTES}: 413, and the connection is closed. */
export class BodyTooLargeError extends StewardError {
  constructor(limit: number, declared?: number) {
    const what = declared !== undefined ? `of ${declared} bytes` : "sent chunked";
    super(
      "STW-1016",
      `request body too large: a body ${what} is over the control API's limit of ${limit} bytes (1 MiB)`,
      { httpStatus: 413, details: { limit, ...(declared !== undefined ? { declared } : {}) } },
    );
  }
}

/** The middleware that refuses bodies over `limit` with {@link BodyTooLargeError}. */
export function bodyLimitMiddleware(limit = MAX_BODY_BYTES): MiddlewareHandler {
  return bodyLimit({
    maxSize: limit,
    onError: (c) => {
      const length = c.req.header("content-length");
      const declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
      // Closing the connection stops the client's upload instead of reading and discarding it.
      c.header("Connection", "close");
      return c.json(new BodyTooLargeError(limit, declared).toJSON(), 413);
    },
  });
}

/** An inclusive range of whole numbers, and what its unit is called in messages. */
export interface WholeRange {
  min: number;
  max: number;
  /** e.g. `milliseconds`; empty for a plain count. */
  unit?: string;
}

/** A duration in milliseconds: 0 up to what a Node timer can wait (2^31 − 1 ms, about 24.8 days). */
export const DURATION_MS: WholeRange = { min: 0, max: MAX_DURATION_MS, unit: "milliseconds" };

/**
 * `value` as a whole number within `range`, or a 400 naming `field`, the range and what came.
 * @example checkWhole("wait", body.wait, DURATION_MS)
 */
export function checkWhole(field: string, value: unknown, range: WholeRange): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= range.min && value <= range.max)
    return value;
  const what = range.unit ? `a whole number of ${range.unit}` : "a whole number";
  const text =
    typeof value === "number" ? String(value) : `${JSON.stringify(value) ?? "nothing"} (${typeof value})`;
  const got = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  throw new BadRequestError(
    `bad request body: \`${field}\` must be ${what} from ${range.min} to ${range.max}, got ${got}`,
    { field, min: range.min, max: range.max, got },
  );
}
