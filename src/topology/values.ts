/**
 * @module topology/values
 * Generic leaf schemas of the topology file (durations, sizes, integers, words, env values) and
 * the `leaf()` helper that builds them. Each one normalises what it accepts (`30s` → 30000) and, when it refuses a value, says what it expected
 * and what it got: "expected a duration like `30s`, got `30` (number)".
 */
import * as z from "zod";
import { tryParseDuration, tryParseSize } from "./duration.js";
import { didYouMeanSuffix } from "./suggest.js";

/**
 * How a received value is named in messages.
 * @example describeValue(30) // "`30` (number)"
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (v === "") return "an empty string";
  const text = String(v);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\` (${typeof v})`;
}

type Check<T> = { value: T } | { problem: string };

/** A schema from a check function: `{ value }` accepts (and normalises), `{ problem }` refuses. */
export function leaf<T>(check: (v: unknown) => Check<T>): z.ZodType<T> {
  return z.custom<unknown>().transform((v, ctx) => {
    const r = check(v);
    if ("problem" in r) {
      ctx.addIssue({ code: "custom", message: r.problem, input: v });
      return z.NEVER;
    }
    return r.value;
  }) as unknown as z.ZodType<T>;
}

/** A duration string (`250ms`, `30s`, `1m30s`) → milliseconds. */
export const duration = leaf<number>((v) => {
  const expected = `expected a duration like \`30s\`, got ${describeValue(v)}`;
  if (typeof v !== "string") return { problem: expected };
  const r = tryParseDuration(v);
  return r.ok ? { value: r.value } : { problem: `${expected}: ${r.reason}` };
});

/** A size (`10MB`, `512KiB`, or a number of bytes) → bytes. */
export const size = leaf<number>((v) => {
  const expected = `expected a size like \`10MB\` or \`512KiB\`, got ${describeValue(v)}`;
  if (typeof v !== "string" && typeof v !== "number") return { problem: expected };
  const r = tryParseSize(v);
  return r.ok ? { value: r.value } : { problem: `${expected}: ${r.reason}` };
});

/**
 * A whole number in `[min, max]`. A string of digits is accepted too, so that `${REPLICAS}` works.
 */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  return leaf<number>((v) => {
    const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === "number" && Number.isInteger(n) && n >= min && n <= max) return { value: n };
    return { problem: `expected a whole number ${range}, got ${describeValue(v)}` };
  });
}

/** A TCP port, 1–65535. */
export const port = integer(1, 65535);

/** A non-empty string. */
export const text = leaf<string>((v) =>
  typeof v === "string" && v.trim() !== ""
    ? { value: v }
    : { problem: `expected a string, got ${describeValue(v)}` },
);

/** One of a fixed set of words, with a did-you-mean. */
export function oneOf<const T extends string>(words: readonly T[]): z.ZodType<T> {
  return leaf<T>((v) => {
    if (typeof v === "string" && (words as readonly string[]).includes(v)) return { value: v as T };
    const hint = typeof v === "string" ? didYouMeanSuffix(v, words) : "";
    return {
      problem: `expected one of ${words.map((w) => `\`${w}\``).join(", ")}, got ${describeValue(v)}${hint}`,
    };
  });
}

/** An environment value: strings as they are; numbers and booleans are turned into strings. */
export const envValue = leaf<string>((v) =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean"
    ? { value: String(v) }
    : { problem: `expected a string, got ${describeValue(v)}` },
);

/** An environment variable name. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "an environment variable name has letters, digits and `_`, and does not start with a digit",
});
