/**
 * The daemon under a descriptor-exhaustion attack on the edge: a daemon started with a small
 * descriptor limit (`prlimit --nofile=512:512`, which the daemon cannot raise) while a client keeps
 * about a thousand half-sent request heads open or opening. The edge holds at most
 * (512 − 256 reserved) / 2 = 128 of them and refuses the rest at once; the control API and the
 * supervision of replicas keep working: `status` answers, `restart` restarts the replica and it
 * becomes ready again. After the attack, requests are served again.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, freePort, homeOf, node, project, sleep, status, steward, waitFor } from "./helpers.js";

/** Keeps `target` connections to the edge open or opening, each sending a request head that never ends. */
class Attacker {
  readonly sockets = new Set<net.Socket>();
  attempts = 0;
  /** Connections the edge closed (refused at once, or answered 408 after the head timeout). */
  closedByEdge = 0;
  #stopped = false;

  constructor(
    readonly port: number,
    readonly target: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.target; i++) this.#one();
  }

  /** Connections that have been open for a while (not refused). */
  get held(): number {
    let n = 0;
    for (const s of this.sockets)
      if ((s as net.Socket & { heldSince?: number }).heldSince! < Date.now() - 500) n++;
    return n;
  }

  #one(): void {
    if (this.#stopped) return;
    this.attempts += 1;
    const s = net.connect({ host: "127.0.0.1", port: this.port });
    this.sockets.add(s);
    s.on("connect", () => {
      (s as net.Socket & { heldSince?: number }).heldSince = Date.now();
      s.write("GET /who HTTP/1.1\r\nHost: attacker\r\nX-Slow: ");
    });
    s.on("error", () => undefined);
    s.resume();
    s.on("close", () => {
      this.sockets.delete(s);
      if (this.#stopped) return;
      this.closedByEdge += 1;
      setTimeout(() => this.#one(), 500);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath, agent: false, timeout: 5_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject)
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy(new Error("timeout"));
      });
  });
}

/** `steward up` under a descriptor limit of `nofile` (soft and hard, or `soft:hard`): the daemon inherits it. */
function upWithLimit(dir: string, nofile: number | string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "prlimit",
      [
        `--nofile=${typeof nofile === "number" ? `${nofile}:${nofile}` : nofile}`,
        "--",
        process.execPath,
        BIN,
        "up",
      ],
      { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
      (err, _stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr }),
    );
  });
}

const openFds = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

describe("the daemon's descriptor limit", () => {
  it("runs at its hard limit (node raises the soft limit itself; the daemon checks and logs it)", async () => {
    const port = await freePort();
    const dir = project(`
components:
  web:
    command: ${node("edge-upstream.js")}
    env: { PORT: "\${port}", REPLICA: "\${replica}" }
    ready: { http: /healthz, within: 20s }
routes:
  - { listen: "127.0.0.1:${port}", to: web }
`);
    expect((await upWithLimit(dir, "300:2000")).code).toBe(0);
    const st = await status(dir);
    const limits = fs.readFileSync(`/proc/${st.daemon.pid}/limits`, "utf8");
    expect(limits).toMatch(/^Max open files\s+2000\s+2000\s/m);
    const log = fs.readFileSync(path.join(homeOf(dir), "logs", "daemon.log"), "utf8");
    expect(log).toMatch(
      /file descriptors: limit 2000 \((the hard limit|soft limit raised from 300 to the hard limit)\)/,
    );
    expect(log).toMatch(/edge: at most 872 client connections in all \(descriptor limit 2000, 256 reserved/);
    // Replicas started afterwards inherit the raised limit.
    const replicaPid = st.components[0]?.replicas[0]?.pid;
    expect(fs.readFileSync(`/proc/${replicaPid}/limits`, "utf8")).toMatch(/^Max open files\s+2000\s+2000\s/m);
  });
});

describe("descriptor exhaustion through the edge", () => {
  it("keeps status, restart and replica supervision working while an attacker holds half-sent heads", async () => {
    const port = await freePort();
    const dir = project(`
name: exhaust
components:
  web:
    command: ${node("edge-upstream.js")}
    env: { PORT: "\${port}", REPLICA: "\${replica}" }
    restart: { policy: "no" }
    ready: { http: /healthz, within: 20s }
    health: { http: /healthz, interval: 1s }
    stop: { grace: 5s }
    drain: { timeout: 2s }
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
`);
    expect((await upWithLimit(dir, 512)).code).toBe(0);
    const daemonLog = path.join(homeOf(dir), "logs", "daemon.log");
    const before = await status(dir);
    const daemonPid = before.daemon.pid;
    const firstPid = before.components.find((c) => c.name === "web")?.replicas[0]?.pid;
    expect(fs.readFileSync(daemonLog, "utf8")).toMatch(/file descriptors: limit 512 \(the hard limit\)/);
    expect(fs.readFileSync(daemonLog, "utf8")).toMatch(
      /edge: at most 128 client connections in all \(descriptor limit 512, 256 reserved, 2 per connection\)/,
    );
    expect((await get(port, "/who")).status).toBe(200);

    const attacker = new Attacker(port, 1000);
    attacker.start();
    const attackStarted = Date.now();
    let maxFds = 0;
    const sampler = setInterval(() => {
      try {
        maxFds = Math.max(maxFds, openFds(daemonPid));
      } catch {
        // the daemon is gone: the assertions below say so
      }
    }, 100);
    try {
      // The edge holds its budget of half-sent heads; everything over it is refused at once.
      await waitFor(
        "the attack to fill the edge's budget",
        () => attacker.held >= 120 && attacker.closedByEdge > 500,
        20_000,
        100,
      );
      expect(attacker.held).toBeLessThanOrEqual(128);

      // A new client gets a clear refusal (or, when its request raced the refusal, a reset): never a hang.
      const legit = await get(port, "/who").then(
        (r) => `${r.status} ${r.body.includes("TOO_MANY_CONNECTIONS") ? "TOO_MANY_CONNECTIONS" : r.body}`,
        (err: NodeJS.ErrnoException) => err.code ?? err.message,
      );
      expect(["503 TOO_MANY_CONNECTIONS", "ECONNRESET", "EPIPE"]).toContain(legit);

      // The control API answers, and supervision restarts the replica.
      const st = await steward(dir, "status");
      expect(st.code).toBe(0);
      expect(st.stdout).toMatch(/web/);
      const restart = await steward(dir, "restart", "web");
      expect(restart.code).toBe(0);
      const after = await waitFor(
        "the restarted replica to be ready",
        async () => {
          const r = (await status(dir)).components.find((c) => c.name === "web")?.replicas[0];
          return r?.state === "ready" && r.pid !== firstPid ? r : undefined;
        },
        20_000,
        200,
      );
      expect(after.pid).not.toBe(firstPid);

      // Long enough for the held heads to reach the head timeout (10 s): they are answered 408.
      const left = 12_000 - (Date.now() - attackStarted);
      if (left > 0) await sleep(left);
      expect((await steward(dir, "status")).code).toBe(0);
    } finally {
      attacker.stop();
      clearInterval(sampler);
    }
    expect(maxFds).toBeGreaterThan(128);
    expect(maxFds).toBeLessThan(512 - 64);

    // The attack is over: requests are served again.
    const served = await waitFor(
      "a request to be served after the attack",
      async () => {
        const r = await get(port, "/who").catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      10_000,
      100,
    );
    expect(served.body).toMatch(/^replica 0 pid \d+/);

    // The daemon log sums up the refusals; the access log has the timed-out heads.
    await waitFor(
      "the refusal summary in daemon.log",
      () =>
        /edge 127\.0\.0\.1:\d+: refused \d+ over the descriptor budget/.test(
          fs.readFileSync(daemonLog, "utf8"),
        ),
      15_000,
      200,
    );
    const access = fs.readFileSync(path.join(homeOf(dir), "logs", "edge", "access.log"), "utf8");
    expect(access).toMatch(/"status":408,"replica":null,"code":"REQUEST_TIMEOUT"/);
    expect(access).toMatch(/"method":"GET","path":"\/who","status":200,"replica":"web\/0"/);
  }, 120_000);
});
