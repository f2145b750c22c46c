// One daemon per home, whatever the race: many daemons started at once over a stale `daemon.pid`
// (the pid of a dead process) — exactly one runs, every other exits naming it; a daemon killed
// with SIGKILL leaves no lock behind.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, alive, homeOf, node, project, socketOf, status, steward, waitFor } from "./helpers.js";

const TOPOLOGY = `
components:
  a:
    command: ${node("forever.js")}
`;

/** The pid of a process that has exited: what a crashed daemon leaves in `daemon.pid`. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  const pid = Number(child.stdout.trim());
  expect(alive(pid)).toBe(false);
  return pid;
}

interface Exit {
  pid: number;
  code: number | null;
  stderr: string;
}

/** Starts `steward daemon` `count` times at once in `dir`; resolves each one's exit as it comes. */
function startMany(dir: string, count: number): { pids: number[]; exits: Promise<Exit>[] } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.STEWARD_FILE;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [BIN, "daemon"], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] }),
  );
  const exits = children.map(
    (child) =>
      new Promise<Exit>((resolve) => {
        let stderr = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (chunk: string) => (stderr += chunk));
        child.on("close", (code) => resolve({ pid: child.pid!, code, stderr }));
      }),
  );
  return { pids: children.map((c) => c.pid!), exits };
}

describe("the daemon lock", () => {
  it("8 daemons started at once over a stale daemon.pid: exactly one runs, the others exit 1 naming it", async () => {
    const dir = project(TOPOLOGY);
    fs.mkdirSync(homeOf(dir), { recursive: true });
    const stale = deadPid();
    fs.writeFileSync(path.join(homeOf(dir), "daemon.pid"), `${stale}\n`);

    const { pids, exits } = startMany(dir, 8);
    // Seven exit; the eighth keeps running.
    const settled: Exit[] = [];
    for (const exit of exits) void exit.then((e) => settled.push(e));
    await waitFor("seven daemons to exit", () => settled.length >= 7, 30_000);
    const winners = pids.filter((pid) => !settled.some((e) => e.pid === pid));
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;

    const doc = await status(dir);
    expect(doc.daemon.pid).toBe(winner);
    expect(fs.readFileSync(path.join(homeOf(dir), "daemon.pid"), "utf8").trim()).toBe(String(winner));
    for (const e of settled) {
      expect(e.code, e.stderr).toBe(1);
      expect(e.stderr.trim()).toBe(
        `steward: a steward daemon is already running on ${homeOf(dir)} (pid ${winner})`,
      );
    }
    expect(settled.length, "still exactly one running").toBe(7);
    expect(alive(winner)).toBe(true);

    const down = await steward(dir, "down");
    expect(down.code, down.stdout + down.stderr).toBe(0);
    await waitFor("the daemon to exit", () => !alive(winner), 10_000);
    expect(fs.existsSync(path.join(homeOf(dir), "daemon.pid")), "removed by an orderly exit").toBe(false);
  });

  it("a daemon killed with SIGKILL leaves no lock: the next one starts at once and takes the replica over", async () => {
    const dir = project(TOPOLOGY);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const before = await status(dir);
    process.kill(before.daemon.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !alive(before.daemon.pid), 5_000);
    expect(fs.readFileSync(path.join(homeOf(dir), "daemon.pid"), "utf8").trim()).toBe(
      String(before.daemon.pid),
    );

    const { exits } = startMany(dir, 3);
    const settled: Exit[] = [];
    for (const exit of exits) void exit.then((e) => settled.push(e));
    await waitFor("two daemons to exit", () => settled.length >= 2, 30_000);
    const after = await status(dir);
    expect(after.daemon.pid).not.toBe(before.daemon.pid);
    expect(after.daemon.instance).toBe(before.daemon.instance + 1);
    expect(after.components[0]!.replicas[0]!.pid).toBe(before.components[0]!.replicas[0]!.pid);
    for (const e of settled) expect(e.stderr).toContain(`(pid ${after.daemon.pid})`);
    expect(fs.statSync(socketOf(dir)).isSocket()).toBe(true);
  });
});
