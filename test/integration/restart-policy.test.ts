// Exits Steward did not ask for (docs/stopping.md): the restart policy, its exponential backoff
// and its rate limit, after which the replica is `failed` until an operator starts it again.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  fixture,
  logOf,
  project,
  replica,
  sleep,
  steward,
  Stamps,
  waitFor,
  waitForState,
} from "./helpers.js";

/**
 * `crashes-after.js <ms> <code>` wrapped in a shell that stamps `c spawn` before it runs and
 * `c exit` once it has exited, so the test sees the real gap between an exit and the next spawn.
 */
const crashing = (ms: number, code: number): string => `
    command:
      - /bin/sh
      - -c
      - 'echo "c spawn $(date +%s%3N)" >> {dir}/stamps.log; ${process.execPath} ${fixture("crashes-after.js")} ${ms} ${code}; s=$?; echo "c exit $(date +%s%3N)" >> {dir}/stamps.log; exit $s'`;

const stampsOf = (dir: string): Stamps => new Stamps(path.join(dir, "stamps.log"));

/** Lines a replica's program printed when it started (crashes-after.js prints `started <pid>, …`). */
const startsIn = (dir: string, component: string): number =>
  fs.readFileSync(logOf(dir, component), "utf8").match(/^started \d+/gm)?.length ?? 0;

const LIMITED = `
components:
  c:${crashing(100, 3)}
    restart: { policy: on-failure, backoff: 50ms..400ms, limit: 3 in 60s }
`;

describe("restart policy", () => {
  it("on-failure: restarts with a growing backoff, then gives up after `limit` restarts: failed, limit in the reason", async () => {
    const dir = project(LIMITED);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const r = await waitForState(dir, "c", "failed");
    expect(r.restarts).toBe(3);
    expect(r.reason).toMatch(/restarted 3 times within (60s|1m)\b/);
    expect(r.lastExit).toMatchObject({ exitCode: 3, signal: null, forced: false });
    expect(r.pid).toBeNull();

    await sleep(600); // a fifth spawn would come within the 400ms longest backoff
    const s = stampsOf(dir);
    const spawns = s.all("c", "spawn");
    const exits = s.all("c", "exit");
    expect(spawns, s.toString()).toHaveLength(4);
    expect(exits, s.toString()).toHaveLength(4);
    expect((await replica(dir, "c")).state).toBe("failed");

    // From each exit to the next spawn: at least the backoff (50, 100, 200 ms), growing each time.
    const delays = [0, 1, 2].map((i) => spawns[i + 1]! - exits[i]!);
    const why = `exit → next spawn: ${delays.join(", ")} ms\n${s.toString()}`;
    expect(delays[0], why).toBeGreaterThanOrEqual(50);
    expect(delays[1], why).toBeGreaterThanOrEqual(100);
    expect(delays[2], why).toBeGreaterThanOrEqual(200);
    expect(delays[1], why).toBeGreaterThan(delays[0]!);
    expect(delays[2], why).toBeGreaterThan(delays[1]!);
    // So the gaps between spawns grow too (each gap also holds one ~100 ms run of the program).
    const gaps = [0, 1, 2].map((i) => spawns[i + 1]! - spawns[i]!);
    expect(gaps[2], `spawn → spawn: ${gaps.join(", ")} ms\n${s.toString()}`).toBeGreaterThan(gaps[0]! + 75);
  });

  it("`steward start` of a failed replica resets it: it runs again with a fresh restart budget", async () => {
    const dir = project(LIMITED);
    expect((await steward(dir, "up")).code).toBe(0);
    await waitForState(dir, "c", "failed");
    await sleep(100);
    expect(stampsOf(dir).all("c", "spawn")).toHaveLength(4);

    const start = await steward(dir, "start", "c");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    // The limiter was reset: 1 start + 3 restarts more before it gives up again.
    await waitFor("8 spawns and failed again", async () => {
      const r = await replica(dir, "c");
      return stampsOf(dir).all("c", "spawn").length === 8 && r.state === "failed";
    });
    const r = await replica(dir, "c");
    expect(r.reason).toMatch(/restarted 3 times within (60s|1m)\b/);
    await sleep(600);
    expect(stampsOf(dir).all("c", "spawn")).toHaveLength(8);
  });

  it('policy "no": a non-zero exit leaves the replica crashed, not restarted', async () => {
    const dir = project(`
components:
  c:
    command: ${process.execPath} ${fixture("crashes-after.js")} 100 3
    restart: { policy: "no", backoff: 50ms }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const r = await waitForState(dir, "c", "crashed");
    expect(r).toMatchObject({ restarts: 0, pid: null, reason: "exited with code 3" });
    expect(r.lastExit).toMatchObject({ exitCode: 3, signal: null, forced: false });
    await sleep(500);
    expect(await replica(dir, "c")).toMatchObject({ state: "crashed", restarts: 0 });
    expect(startsIn(dir, "c")).toBe(1);
  });

  it('policy "always": a program that exits 0 is restarted', async () => {
    const dir = project(`
components:
  c:
    command: ${process.execPath} ${fixture("crashes-after.js")} 100 0
    restart: { policy: always, backoff: 50ms, limit: 100 in 60s }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    await waitFor("three runs of the program", () => startsIn(dir, "c") >= 3);
    const r = await replica(dir, "c");
    expect(r.restarts).toBeGreaterThanOrEqual(2);
    expect(r.lastExit).toMatchObject({ exitCode: 0, signal: null, forced: false });
  });

  it("on-failure: an exit 0 leaves the replica stopped, not restarted", async () => {
    const dir = project(`
components:
  c:
    command: ${process.execPath} ${fixture("crashes-after.js")} 100 0
    restart: { policy: on-failure, backoff: 50ms }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    await waitFor("c to exit", async () => (await replica(dir, "c")).lastExit !== null);
    const r = await replica(dir, "c");
    expect(r).toMatchObject({ state: "stopped", restarts: 0, pid: null, reason: null, invalidated: false });
    expect(r.lastExit).toMatchObject({ exitCode: 0, signal: null, forced: false });
    await sleep(500);
    expect(await replica(dir, "c")).toMatchObject({ state: "stopped", restarts: 0 });
    expect(startsIn(dir, "c")).toBe(1);
  });
});
