/**
 * Signals to the daemon (docs/stopping.md): the first SIGTERM is an orderly `down`; a repeat within
 * 5 s is ignored; a later one forces (SIGKILL to every replica's group, exit 1).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, BIN, homeOf, node, project, replica, sleep, waitFor } from "./helpers.js";

const STUBBORN = (grace: string) => `
name: signals
components:
  a:
    command: ${node("ignores-sigterm.js")}
    ready: { log: "ignoring SIGTERM" }
    stop: { grace: ${grace} }
`;

/** A foreground daemon with the stubborn component started; its replica's pid. */
async function foregroundDaemon(dir: string): Promise<{ daemon: ChildProcess; pid: number }> {
  const daemon = spawn(process.execPath, [BIN, "daemon"], { cwd: dir, stdio: "ignore" });
  await waitFor("the socket", () => fs.existsSync(path.join(homeOf(dir), "steward.sock")), 10_000);
  execFileSync(process.execPath, [BIN, "start"], { cwd: dir });
  return { daemon, pid: (await replica(dir, "a")).pid! };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

describe("signals to the daemon", () => {
  it("a second SIGTERM within 5 s is ignored: the orderly shutdown finishes its grace", async () => {
    const dir = project(STUBBORN("2s"));
    const { daemon, pid } = await foregroundDaemon(dir);
    const done = exited(daemon);
    const t0 = Date.now();
    daemon.kill("SIGTERM");
    await sleep(300);
    daemon.kill("SIGTERM");
    expect(await done).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900); // it waited out the 2 s grace
    expect(alive(pid)).toBe(false);
    const log = fs.readFileSync(path.join(dir, ".steward", "logs", "a", "0.log"), "utf8");
    expect(log.match(/got SIGTERM, ignoring it/g)).toHaveLength(1); // the repeat never reached it
  });

  it("a SIGTERM after those 5 s forces: every group is SIGKILLed and the daemon exits 1", async () => {
    const dir = project(STUBBORN("30s"));
    const { daemon, pid } = await foregroundDaemon(dir);
    const done = exited(daemon);
    daemon.kill("SIGTERM");
    await sleep(5_300);
    expect(alive(pid)).toBe(true); // still in its 30 s grace
    daemon.kill("SIGTERM");
    expect(await done).toBe(1);
    await waitFor("the replica to die", () => !alive(pid), 5_000);
  });
});
