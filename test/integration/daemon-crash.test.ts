/**
 * Until re-adoption (issue 3), a daemon that finds its predecessor crashed stops the replicas that
 * outlived it — matched by pid and start time — so no replica ever runs twice.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, homeOf, node, project, replica, status, steward, waitFor } from "./helpers.js";

describe("a daemon that crashed", () => {
  it("leaves its replicas running; the next boot counts the crash and stops them before starting afresh", async () => {
    const dir = project(`
name: crash
components:
  a:
    command: ${node("forever.js")}
    stop: { grace: 2s }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const before = await status(dir);
    const oldPid = (await replica(dir, "a")).pid!;
    process.kill(before.daemon.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !alive(before.daemon.pid), 5_000);
    expect(alive(oldPid)).toBe(true); // the application outlives its daemon

    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const after = await status(dir);
    expect(after.daemon).toMatchObject({ instance: 101, bootKind: "recovered" });
    expect(alive(oldPid)).toBe(false);
    const now = await replica(dir, "a");
    expect(now.state).toBe("ready");
    expect(now.pid).not.toBe(oldPid);
    const log = fs.readFileSync(path.join(homeOf(dir), "logs", "daemon.log"), "utf8");
    expect(log).toMatch(new RegExp(`a\\[0\\] \\(pid ${oldPid}\\) outlived the previous daemon: stopping it`));

    // An orderly shutdown resets the count.
    expect((await steward(dir, "down")).code).toBe(0);
    expect((await steward(dir, "up")).code).toBe(0);
    expect((await status(dir)).daemon).toMatchObject({ instance: 100, bootKind: "clean" });
  });
});
