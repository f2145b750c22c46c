/**
 * @module topology/duration
 * Durations (`250ms`, `30s`, `2m`, `1h`, `1m30s`) and sizes (`10MB`, `512KiB`, `1GB`) as written in a
 * topology file, parsed to milliseconds and bytes.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Longest duration a Node timer can wait (`2^31 - 1` ms, about 24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647;

/** Result of a parse that does not throw: the value, or why the input is not valid. */
export type ParseResult = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Parses a duration without throwing. See {@link parseDuration} for the grammar.
 * @example tryParseDuration("1m30s") // { ok: true, value: 90000 }
 */
export function tryParseDuration(input: string): ParseResult {
  const s = input.trim();
  if (s === "") return { ok: false, reason: "it is empty" };
  if (s === "0") return { ok: true, value: 0 };
  if (s.startsWith("-")) return { ok: false, reason: "a duration cannot be negative" };
  if (/^\d+(\.\d+)?$/.test(s)) return { ok: false, reason: `it has no unit (write \`${s}s\` or \`${s}ms\`)` };
  const part = /(\d+(?:\.\d+)?)([a-zA-Z]+)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    part.lastIndex = at;
    const m = part.exec(s);
    if (!m) {
      const rest = s.slice(at);
      if (/^\d+(\.\d+)?$/.test(rest))
        return { ok: false, reason: `\`${rest}\` has no unit (write \`${s}s\`)` };
      return { ok: false, reason: `unexpected \`${rest}\` (write \`30s\`, \`250ms\` or \`1m30s\`)` };
    }
    const factor = DURATION_UNITS[m[2] ?? ""];
    if (factor === undefined) return { ok: false, reason: `unknown unit \`${m[2]}\` (use ms, s, m or h)` };
    total += Number(m[1]) * factor;
    at = part.lastIndex;
  }
  const ms = Math.round(total);
  if (ms > MAX_DURATION_MS)
    return { ok: false, reason: "it is longer than a timer can wait (about 24 days)" };
  return { ok: true, value: ms };
}

/**
 * Parses a duration into milliseconds: one or more `<number><unit>` parts with units `ms`, `s`, `m`,
 * `h` (`250ms`, `1.5s`, `1m30s`), or `0`.
 * @throws TypeError naming the input and what is wrong with it.
 * @example parseDuration("30s") // 30000
 */
export function parseDuration(input: string): number {
  const r = tryParseDuration(input);
  if (!r.ok) throw new TypeError(`invalid duration \`${input}\`: ${r.reason}`);
  return r.value;
}

/**
 * Formats milliseconds as the shortest duration string that parses back to it.
 * @example formatDuration(90000) // "1m30s"
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, factor] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (rest >= factor) {
      out += `${Math.floor(rest / factor)}${unit}`;
      rest %= factor;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};

/**
 * Parses a size without throwing. See {@link parseSize} for the grammar.
 * @example tryParseSize("512KiB") // { ok: true, value: 524288 }
 */
export function tryParseSize(input: string | number): ParseResult {
  if (typeof input === "number") {
    return Number.isInteger(input) && input >= 0
      ? { ok: true, value: input }
      : { ok: false, reason: "a size in bytes must be a whole number ≥ 0" };
  }
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  if (!m) return { ok: false, reason: "write a number and a unit, like `10MB` or `512KiB`" };
  const factor = SIZE_UNITS[(m[2] ?? "").toLowerCase() || "b"];
  if (factor === undefined)
    return { ok: false, reason: `unknown unit \`${m[2]}\` (use B, KB, MB, GB, KiB, MiB or GiB)` };
  return { ok: true, value: Math.round(Number(m[1]) * factor) };
}

/**
 * Parses a size into bytes. Units are case-insensitive: `B`, decimal `KB`/`MB`/`GB` (powers of
 * 1000) and binary `KiB`/`MiB`/`GiB` (powers of 1024). A bare number is bytes.
 * @throws TypeError naming the input and what is wrong with it.
 * @example parseSize("10MB") // 10000000
 * @example parseSize("10MiB") // 10485760
 */
export function parseSize(input: string | number): number {
  const r = tryParseSize(input);
  if (!r.ok) throw new TypeError(`invalid size \`${input}\`: ${r.reason}`);
  return r.value;
}
