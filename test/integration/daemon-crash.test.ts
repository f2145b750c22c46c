/**
 * A daemon killed with SIGKILL leaves the application running; the next daemon counts the crash
 * and re-adopts every replica that is still alive (same pid and start time), without a restart.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, homeOf, node, project, replica, sleep, status, steward, waitFor } from "./helpers.js";

async function killDaemon(dir: string): Promise<void> {
  const { daemon } = await status(dir);
  process.kill(daemon.pid, "SIGKILL");
  await waitFor("the daemon to die", () => !alive(daemon.pid), 5_000);
}

describe("a daemon that crashed", () => {
  it("leaves its replicas running; the next boot counts the crash and re-adopts them under the same pid", async () => {
    const dir = project(`
name: crash
components:
  a:
    command: ${node("forever.js")}
    stop: { grace: 2s }
  b:
    command: ${node("forever.js")}
    replicas: 2
    depends_on: { a: ready }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const before = await status(dir);
    const pids = before.components.flatMap((c) => c.replicas.map((r) => r.pid));
    await killDaemon(dir);
    for (const pid of pids) expect(alive(pid!)).toBe(true); // the application outlives its daemon

    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const after = await status(dir);
    expect(after.daemon).toMatchObject({ instance: 101, bootKind: "recovered" });
    expect(after.components.flatMap((c) => c.replicas.map((r) => [r.pid, r.state, r.restarts]))).toEqual(
      pids.map((pid) => [pid, "ready", 0]),
    );
    const log = fs.readFileSync(path.join(homeOf(dir), "logs", "daemon.log"), "utf8");
    expect(log).toMatch(/recovery: 3 replica\(s\) re-adopted, 0 gone/);

    // An adopted replica is still supervised: its exit is noticed and the restart policy applies.
    process.kill(pids[0]!, "SIGKILL");
    const restarted = await waitFor("a to be restarted", async () => {
      const r = await replica(dir, "a");
      return r.state === "ready" && r.pid !== pids[0] ? r : undefined;
    });
    expect(restarted.restarts).toBe(1);
    expect(restarted.lastExit?.reason).toMatch(/status unknown/);

    // And it stops through its budget; an orderly shutdown resets the count.
    expect((await steward(dir, "down")).code).toBe(0);
    for (const pid of pids.slice(1)) expect(alive(pid!)).toBe(false);
    expect((await steward(dir, "up")).code).toBe(0);
    expect((await status(dir)).daemon).toMatchObject({ instance: 100, bootKind: "clean" });
  });

  it("a replica that died while no daemon watched is restarted by its policy", async () => {
    const dir = project(`
name: crash2
components:
  a:
    command: ${node("forever.js")}
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const old = (await replica(dir, "a")).pid!;
    await killDaemon(dir);
    process.kill(-old, "SIGKILL");
    await waitFor("the replica to die", () => !alive(old), 5_000);
    await sleep(50);
    expect((await steward(dir, "up")).code).toBe(0);
    const now = await replica(dir, "a");
    expect(now.state).toBe("ready");
    expect(now.pid).not.toBe(old);
    expect(now.lastExit?.reason).toMatch(/status unknown/);
  });
});
