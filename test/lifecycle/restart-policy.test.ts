import { describe, expect, it } from "vitest";
import { RestartPolicy } from "../../src/lifecycle/restart-policy.js";
import type { RestartSpec } from "../../src/topology/types.js";

const spec = (policy: RestartSpec["policy"]): RestartSpec => ({
  policy,
  backoffInitialMs: 100,
  backoffMaxMs: 800,
  limitCount: 3,
  limitWindowMs: 60_000,
});

describe("RestartPolicy", () => {
  it("on-failure: a clean exit rests as stopped, a failure restarts with doubling backoff until the limit", () => {
    const p = new RestartPolicy(spec("on-failure"));
    expect(p.decide("exited with code 0", true, 0)).toEqual({
      action: "rest",
      state: "stopped",
      reason: null,
    });
    const delays = [1, 2, 3].map((t) => p.decide("exited with code 1", false, t));
    expect(delays).toEqual([
      { action: "restart", delayMs: 100, reason: "exited with code 1; restarting in 100ms" },
      { action: "restart", delayMs: 200, reason: "exited with code 1; restarting in 200ms" },
      { action: "restart", delayMs: 400, reason: "exited with code 1; restarting in 400ms" },
    ]);
    expect(p.decide("exited with code 1", false, 4)).toEqual({
      action: "give-up",
      reason: "exited with code 1; restarted 3 times within 1m, gave up (start it again to retry)",
    });
  });

  it("no: rests as crashed; always: restarts even a clean exit", () => {
    expect(new RestartPolicy(spec("no")).decide("killed by SIGSEGV", false, 0)).toEqual({
      action: "rest",
      state: "crashed",
      reason: "killed by SIGSEGV",
    });
    expect(new RestartPolicy(spec("always")).decide("exited with code 0", true, 0)).toMatchObject({
      action: "restart",
      delayMs: 100,
    });
  });

  it("the limit is a sliding window, the backoff restarts after a long ready spell, and reset forgets both", () => {
    const p = new RestartPolicy(spec("on-failure"));
    for (const t of [0, 1, 2]) p.decide("x", false, t);
    expect(p.decide("x", false, 3).action).toBe("give-up");
    expect(p.decide("x", false, 60_001)).toMatchObject({ action: "restart", delayMs: 800 });
    p.markReady(70_000);
    expect(p.decide("x", false, 70_900)).toMatchObject({ action: "restart", delayMs: 100 });
    p.reset();
    for (const t of [70_901, 70_902]) expect(p.decide("x", false, t).action).toBe("restart");
  });
});
