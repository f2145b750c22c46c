/**
 * @module cli/options
 * The one place the CLI turns option text into numbers: whole numbers in a range (`-n`,
 * `--replica`) and durations (`--wait`, `--wait-jobs`). A bad value is bad input — `BadRequestError`
 * (`STW-1006`), exit 2 — naming the option, what it takes and what it got; the ranges are the ones
 * the control API checks (api/limits).
 */
import { BadRequestError } from "../errors.js";
import { tryParseDuration } from "../topology/duration.js";

/** Most lines `logs -n` prints per replica. */
export const MAX_LOG_LINES = 1_000_000;

/**
 * `text` as a whole number from `min` to `max`; `what` names the value in the message.
 * @example wholeOption("-n", "50", { min: 0, max: MAX_LOG_LINES }) // 50
 */
export function wholeOption(
  option: string,
  text: string,
  range: { min: number; max: number; what?: string },
): number {
  const value = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= range.min && value <= range.max) return value;
  const what = range.what ?? "a whole number";
  throw new BadRequestError(`${option} expects ${what} from ${range.min} to ${range.max}, got \`${text}\``, {
    option,
    min: range.min,
    max: range.max,
    got: text,
  });
}

/**
 * `text` as a duration in milliseconds (`30s`, `5m`, `1m30s`; at most 2^31 − 1 ms, about 24.8 days).
 * @example durationOption("--wait", "5m") // 300000
 */
export function durationOption(option: string, text: string): number {
  const parsed = tryParseDuration(text);
  if (parsed.ok) return parsed.value;
  throw new BadRequestError(
    `${option} expects a duration like 30s or 5m, got \`${text}\`: ${parsed.reason}`,
    { option, got: text },
  );
}
