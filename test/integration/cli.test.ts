// The `steward` command line against a real daemon: status (table and JSON), logs, down, the
// instance count after an orderly shutdown, and the control socket's permissions.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alive,
  homeOf,
  logOf,
  node,
  processesOf,
  project,
  socketOf,
  status,
  steward,
  waitFor,
  writeTopology,
} from "./helpers.js";

/** Prints `line 1` … `line 4`, then `started <pid>` and stays alive (forever.js). */
const printsFour = `[/bin/sh, -c, 'for i in 1 2 3 4; do echo "line $i"; done; exec ${node("forever.js")}']`;

const TWO_COMPONENTS = `
name: clitest
components:
  api:
    command: ${node("forever.js")}
  worker:
    command: [/bin/sh, -c, 'echo "hello from $R"; exec ${node("forever.js")}']
    env: { R: "\${replica}" }
    replicas: 2
    depends_on: [api]
`;

async function up(dir: string): Promise<void> {
  const res = await steward(dir, "up");
  expect(res.code, res.stdout + res.stderr).toBe(0);
}

describe("steward CLI", () => {
  it("`status` prints a line per replica with its state and pid", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    const doc = await status(dir);
    const res = await steward(dir, "status");
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^clitest — daemon active · pid ${doc.daemon.pid} · instance 100 \\(clean boot\\)`),
    );
    expect(lines[1]).toMatch(/^COMPONENT\s+#\s+STATE\s+PID/);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(3);
    for (const [i, [name, index]] of [
      ["api", 0],
      ["worker", 0],
      ["worker", 1],
    ].entries()) {
      const pid = doc.components.find((c) => c.name === name)!.replicas[index as number]!.pid;
      expect(rows[i]).toMatch(new RegExp(`^${name}\\s+${index}\\s+ready\\s+${pid}\\s`));
    }
  });

  it("`status --json` has the documented shape", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    const res = await steward(dir, "status", "--json");
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as unknown;
    const replicaShape = (index: number) => ({
      index,
      state: "ready",
      pid: expect.any(Number),
      port: null,
      restarts: 0,
      invalidated: false,
      reason: null,
      lastExit: null,
      since: expect.any(Number),
      logFile: expect.any(String),
    });
    expect(doc).toEqual({
      name: "clitest",
      daemon: {
        state: "active",
        pid: expect.any(Number),
        instance: 100,
        bootKind: "clean",
        bootedAt: expect.any(Number),
        topology: path.join(dir, "steward.yaml"),
        topologyDigest: expect.stringMatching(/^[0-9a-f]{16}$/),
        home: homeOf(dir),
        store: path.join(homeOf(dir), "state.db"),
      },
      components: [
        { name: "api", replicas: [{ ...replicaShape(0), logFile: logOf(dir, "api", 0) }] },
        {
          name: "worker",
          replicas: [
            { ...replicaShape(0), logFile: logOf(dir, "worker", 0) },
            { ...replicaShape(1), logFile: logOf(dir, "worker", 1) },
          ],
        },
      ],
    });
  });

  it("`logs <c> -n 2` prints the last 2 lines", async () => {
    const dir = project(`
components:
  talker:
    command: ${printsFour}
`);
    await up(dir);
    const pid = (await status(dir)).components[0]!.replicas[0]!.pid;
    await waitFor("talker's output", () => fs.readFileSync(logOf(dir, "talker"), "utf8").includes("started"));
    const res = await steward(dir, "logs", "talker", "-n", "2");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`line 4\nstarted ${pid}\n`);
  });

  it("`logs` of a component with 2 replicas prefixes each line with `name[i] |`", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    await waitFor("both workers' output", () =>
      [0, 1].every(
        (i) =>
          fs.existsSync(logOf(dir, "worker", i)) &&
          /started/.test(fs.readFileSync(logOf(dir, "worker", i), "utf8")),
      ),
    );
    const res = await steward(dir, "logs", "worker");
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines).toContain("worker[0] | hello from 0");
    expect(lines).toContain("worker[1] | hello from 1");
    for (const line of lines) expect(line).toMatch(/^worker\[[01]\] \| /);
  });

  it("`down` leaves no process: replicas and daemon gone, socket and daemon.pid removed; the next `up` is a clean boot, instance 100", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    const doc = await status(dir);
    const pids = [doc.daemon.pid, ...doc.components.flatMap((c) => c.replicas.map((r) => r.pid!))];
    expect(pids.every(alive)).toBe(true);
    expect(doc.daemon).toMatchObject({ instance: 100, bootKind: "clean" });

    const down = await steward(dir, "down");
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain("daemon stopped");
    await waitFor("the daemon to exit", () => !alive(doc.daemon.pid), 5_000);
    for (const pid of pids) expect(alive(pid), `pid ${pid} is gone`).toBe(false);
    expect(processesOf(dir), "no process of the project is left").toEqual([]);
    expect(fs.existsSync(socketOf(dir)), "socket removed").toBe(false);
    expect(fs.existsSync(path.join(homeOf(dir), "daemon.pid")), "daemon.pid removed").toBe(false);
    const after = await steward(dir, "status");
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain("no steward daemon is listening");

    await up(dir);
    const again = await status(dir);
    expect(again.daemon.pid).not.toBe(doc.daemon.pid);
    expect(again.daemon).toMatchObject({ state: "active", instance: 100, bootKind: "clean" });
  });

  it("the control socket is created with mode 0600", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    const st = fs.statSync(socketOf(dir));
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe("600");
  });

  it("an edited topology file: `up` reports its errors; a valid edit earns a warning that the daemon follows the loaded one", async () => {
    const dir = project(TWO_COMPONENTS);
    await up(dir);
    writeTopology(dir, TWO_COMPONENTS.replace("depends_on", "depnds_on"));
    const bad = await steward(dir, "up");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean `depends_on`/);
    writeTopology(dir, TWO_COMPONENTS.replace("replicas: 2", "replicas: 3"));
    const edited = await steward(dir, "start", "api");
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/^! .*steward\.yaml changed since the daemon loaded it/m);
    expect((await status(dir)).components.find((c) => c.name === "worker")?.replicas).toHaveLength(2);
  });
});
