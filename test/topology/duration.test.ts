import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseSize, tryParseDuration } from "../../src/topology/index.js";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["30s", 30_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1_500],
    ["0", 0],
    ["0s", 0],
    ["1h2m3s4ms", 3_723_004],
  ])("%s → %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ["30", "invalid duration `30`: it has no unit (write `30s` or `30ms`)"],
    ["30x", "invalid duration `30x`: unknown unit `x` (use ms, s, m or h)"],
    ["", "invalid duration ``: it is empty"],
    ["-5s", "invalid duration `-5s`: a duration cannot be negative"],
    ["5 s", "invalid duration `5 s`: unexpected `5 s` (write `30s`, `250ms` or `1m30s`)"],
    ["30d", "invalid duration `30d`: unknown unit `d` (use ms, s, m or h)"],
    ["1m30", "invalid duration `1m30`: `30` has no unit (write `1m30s`)"],
    ["1000h", "invalid duration `1000h`: it is longer than a timer can wait (about 24 days)"],
  ])("refuses %j with a clear message", (input, message) => {
    expect(() => parseDuration(input)).toThrow(new TypeError(message));
  });

  it("has a non-throwing form", () => {
    expect(tryParseDuration("2m")).toEqual({ ok: true, value: 120_000 });
    expect(tryParseDuration("2y")).toEqual({ ok: false, reason: "unknown unit `y` (use ms, s, m or h)" });
  });

  it("formats milliseconds back to a duration that parses to the same value", () => {
    for (const ms of [0, 1, 250, 1_000, 90_000, 3_723_004])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect(formatDuration(90_000)).toBe("1m30s");
  });
});

describe("parseSize", () => {
  it.each([
    ["10MB", 10_000_000],
    ["512KiB", 524_288],
    ["1GB", 1_000_000_000],
    ["10MiB", 10_485_760],
    ["1gib", 1_073_741_824],
    ["2048", 2_048],
    ["100B", 100],
    [4096, 4_096],
  ] as const)("%s → %d bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([
    ["10XB", "invalid size `10XB`: unknown unit `XB` (use B, KB, MB, GB, KiB, MiB or GiB)"],
    ["MB", "invalid size `MB`: write a number and a unit, like `10MB` or `512KiB`"],
    [-1, "invalid size `-1`: a size in bytes must be a whole number ≥ 0"],
  ] as const)("refuses %j with a clear message", (input, message) => {
    expect(() => parseSize(input)).toThrow(new TypeError(message));
  });
});
