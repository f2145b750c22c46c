import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PortInUseError } from "../../src/process/errors.js";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { allocatePort, assertPortFree, isPortInUse } from "../../src/process/ports.js";
import { spawnReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let dir: string;
const groups: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-ports-"));
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("allocatePort", () => {
  it("gives a free loopback port that can be bound, and different ports in a row", async () => {
    const ports = [await allocatePort(), await allocatePort(), await allocatePort()];
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      expect(await isPortInUse(port)).toBe(false);
    }
  });
});

describe("isPortInUse / assertPortFree", () => {
  it("sees a listener on any address", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortInUse(port)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await isPortInUse(port)).toBe(false);
  });

  it("reports the port in use with the pid and command of its holder", async () => {
    const port = await allocatePort();
    await expect(assertPortFree(port)).resolves.toBeUndefined();
    const logFile = path.join(dir, "server.log");
    const command = ["node", fixture("http-server.js")];
    const r = await spawnReplica({ command, cwd: dir, env: { ...process.env, PORT: String(port) }, logFile });
    groups.push(r.pgid);
    const deadline = Date.now() + 5000;
    while (!readFileSync(logFile, "utf8").includes("listening")) {
      if (Date.now() > deadline) throw new Error("http-server did not start");
      await sleep(10);
    }

    const err = await assertPortFree(port).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as PortInUseError).message).toBe(
      `port ${port} is already in use by pid ${r.pid} (node ${fixture("http-server.js")})`,
    );
    expect((err as PortInUseError).holder).toEqual({
      pid: r.pid,
      command: `node ${fixture("http-server.js")}`,
    });
  });
});
