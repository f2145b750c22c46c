import { describe, expect, it } from "vitest";
import { backoffDelay, RestartLimiter } from "../../src/process/backoff.js";
import { formatMs } from "../../src/process/duration.js";

describe("backoffDelay", () => {
  const spec = { backoffInitialMs: 100, backoffMaxMs: 30_000 };
  it("doubles from the initial delay and caps at the maximum", () => {
    expect([1, 2, 3, 4, 5, 9, 10, 11, 100, 10_000].map((n) => backoffDelay(n, spec))).toEqual([
      100, 200, 400, 800, 1600, 25_600, 30_000, 30_000, 30_000, 30_000,
    ]);
  });
  it("treats attempts below 1 as the first", () => {
    expect(backoffDelay(0, spec)).toBe(100);
    expect(backoffDelay(-3, spec)).toBe(100);
  });
});

describe("RestartLimiter", () => {
  it("allows 5 restarts in 60s and refuses the 6th", () => {
    const limiter = new RestartLimiter({ limitCount: 5, limitWindowMs: 60_000 });
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(limiter.exceeded(t0 + i * 1000)).toBe(false);
      limiter.record(t0 + i * 1000);
    }
    expect(limiter.count(t0 + 5000)).toBe(5);
    expect(limiter.exceeded(t0 + 5000)).toBe(true);
  });

  it("slides: restarts older than the window stop counting", () => {
    const limiter = new RestartLimiter({ limitCount: 2, limitWindowMs: 10_000 });
    limiter.record(0);
    limiter.record(5000);
    expect(limiter.exceeded(9999)).toBe(true);
    expect(limiter.exceeded(10_000)).toBe(false);
    expect(limiter.count(10_000)).toBe(1);
    expect(limiter.count(15_000)).toBe(0);
  });

  it("forgets everything on reset", () => {
    const limiter = new RestartLimiter({ limitCount: 1, limitWindowMs: 60_000 });
    limiter.record(1);
    expect(limiter.exceeded(2)).toBe(true);
    limiter.reset();
    expect(limiter.exceeded(2)).toBe(false);
  });
});

describe("formatMs", () => {
  it("writes durations like the topology file", () => {
    expect([250, 1000, 1500, 5000, 60_000, 120_000, 90_000, 3_900_000, 7_200_000].map(formatMs)).toEqual([
      "250ms",
      "1s",
      "1.5s",
      "5s",
      "1m",
      "2m",
      "1m30s",
      "1h5m",
      "2h",
    ]);
  });
});
