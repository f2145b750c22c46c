/**
 * `restart` (or `start`) of a component maintenance took offline brings it back, and it leaves the
 * maintenance record: the next daemon's edge routes to it instead of answering its offline code,
 * `verify` expects it running, and `maintenance off` resumes the schedules without touching it.
 * Maintenance itself (paused schedules) stays on until `maintenance off`.
 */
import http from "node:http";
import { describe, expect, it } from "vitest";
import { api, freePort, node, project, status, steward, waitFor } from "./helpers.js";

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

interface Verify {
  ok: boolean;
  maintenance: string[] | null;
}

const verifyReport = async (dir: string): Promise<Verify> =>
  JSON.parse((await api(dir, "GET", "/v1/verify")).body) as Verify;

const pidsOf = async (dir: string, component: string): Promise<(number | null)[]> =>
  (await status(dir)).components.find((c) => c.name === component)!.replicas.map((r) => r.pid);

describe("restart during maintenance", () => {
  it("brings the component back and out of the maintenance record; it stays served after a daemon restart and `maintenance off`", async () => {
    const port = await freePort();
    const dir = project(`
name: maint-restart
components:
  web:
    command: ${node("http-server.js")}
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 10s }
    stop: { grace: 3s }
    offline_code: WEB_OFFLINE
  cache:
    command: ${node("forever.js")}
    stop: { grace: 3s }
jobs:
  report:
    command: "node -e \\"\\""
    schedule: "0 2 * * *"
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const on = await steward(dir, "maintenance", "on");
    expect(on.code, on.stdout + on.stderr).toBe(0);
    expect((await get(port)).body).toMatch(/WEB_OFFLINE/);

    const restart = await steward(dir, "restart", "web");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(restart.stdout).toMatch(
      /in maintenance: web brought back, no longer held offline by it \(cache still are\); job schedules stay paused until `steward maintenance off`/,
    );
    expect((await get(port)).status).toBe(200);
    expect(await verifyReport(dir)).toMatchObject({ ok: true, maintenance: ["cache"] });

    // The next daemon reads the record: web is not held offline, cache is.
    expect((await steward(dir, "daemon", "restart")).code).toBe(0);
    await waitFor("the next daemon active", async () => (await status(dir)).daemon.state === "active");
    expect((await get(port)).status).toBe(200);
    expect(await verifyReport(dir)).toMatchObject({ ok: true, maintenance: ["cache"] });
    const web = await pidsOf(dir, "web");

    const off = await steward(dir, "maintenance", "off");
    expect(off.code, off.stdout + off.stderr).toBe(0);
    expect(off.stdout).toMatch(/resumed 1 job schedule\(s\): report; maintenance is off/);
    expect(await pidsOf(dir, "web")).toEqual(web);
    expect((await status(dir)).components.find((c) => c.name === "cache")!.replicas[0]!.state).toBe("ready");
    expect(await verifyReport(dir)).toMatchObject({ ok: true, maintenance: null });
  }, 60_000);
});
