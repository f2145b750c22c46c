/**
 * The edge inside the daemon: routes reach ready replicas, the stop budget drains a replica before
 * its signal, a restart behind `hold` loses no request, and maintenance answers with the offline code.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alive, freePort, node, openStateDb, project, status, steward, waitFor } from "./helpers.js";

function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

async function topology(replicas: number, hold = ""): Promise<{ dir: string; port: number }> {
  const port = await freePort();
  const dir = project(`
name: edged
components:
  web:
    command: ${node("edge-upstream.js")}
    env: { PORT: "\${port}", REPLICA: "\${replica}", BROKEN_IF: "{dir}/broken", NOT_READY_IF: "{dir}/not-ready" }
    restart: { policy: "no" }
    replicas: ${replicas}
    ready: { http: /healthz, within: 10s }
    stop: { grace: 5s }
    drain: { timeout: 5s }
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web${hold} }
`);
  return { dir, port };
}

describe("the edge in the daemon", () => {
  it("spreads requests over the ready replicas and shows routing in status", async () => {
    const { dir, port } = await topology(2);
    expect((await steward(dir, "up")).code).toBe(0);
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(port, "/who")));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.split(" ")[1])).size).toBe(2);
    const doc = await status(dir);
    expect(doc.routing?.[0]).toMatchObject({ component: "web", offline: null });
    expect(doc.routing?.[0]?.replicas.map((r) => r.state)).toEqual(["in", "in"]);
    expect((await steward(dir, "status")).stdout).toMatch(/route → web: \[0\] in, \[1\] in/);
  });

  it("drains a replica before its stop signal: a slow request in flight completes", async () => {
    const { dir, port } = await topology(1);
    expect((await steward(dir, "up")).code).toBe(0);
    const slow = get(port, "/slow?ms=800");
    await new Promise((r) => setTimeout(r, 150));
    const stop = await steward(dir, "stop");
    expect(stop.code).toBe(0);
    expect(await slow).toMatchObject({ status: 200, body: "slow done by replica 0\n" });
    const db = openStateDb(dir);
    const steps = db
      .prepare("SELECT name, detail FROM operation_steps WHERE replica_index = 0 ORDER BY seq")
      .all() as { name: string; detail: string }[];
    db.close();
    expect(steps.map((s) => s.name)).toEqual(["stop-routing", "wait-in-flight", "signal", "grace"]);
    expect(steps[1]!.detail).toMatch(/in-flight requests done after \d+ms/);
    const after = await get(port, "/who");
    expect(after.status).toBe(503);
    expect(JSON.parse(after.body).error.code).toBe("NO_HEALTHY_REPLICA");
  });

  it("a restart behind `hold` loses no request", async () => {
    const { dir, port } = await topology(1, ", hold: 10s");
    expect((await steward(dir, "up")).code).toBe(0);
    let stop = false;
    const results: number[] = [];
    const loop = (async () => {
      while (!stop) results.push((await get(port, "/who").catch(() => ({ status: 0 }))).status);
    })();
    await waitFor("some requests", () => results.length > 20);
    expect((await steward(dir, "restart", "web")).code).toBe(0);
    const at = results.length;
    await waitFor("requests after the restart", () => results.length > at + 20);
    stop = true;
    await loop;
    expect(results.filter((s) => s !== 200)).toEqual([]);
  });

  it("a rolling restart starts each replacement beside the replica it replaces: never fewer ready, no failed request", async () => {
    const { dir, port } = await topology(2);
    expect((await steward(dir, "up")).code).toBe(0);
    const before = (await status(dir)).components[0]!.replicas.map((r) => r.pid);
    let stop = false;
    const results: number[] = [];
    const readyCounts: number[] = [];
    const loop = (async () => {
      while (!stop) results.push((await get(port, "/who").catch(() => ({ status: 0 }))).status);
    })();
    const watch = (async () => {
      while (!stop) {
        const doc = await status(dir);
        readyCounts.push(doc.components[0]!.replicas.filter((r) => r.state === "ready").length);
      }
    })();
    await waitFor("some requests", () => results.length > 20);
    const restart = await steward(dir, "restart", "web");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(restart.stdout).toMatch(/starting web\[2\] beside web\[0\]/);
    expect(restart.stdout).toMatch(/web\[3\] ready and routed; draining web\[1\]/);
    const at = results.length;
    await waitFor("requests after the restart", () => results.length > at + 20);
    stop = true;
    await Promise.all([loop, watch]);
    expect(results.filter((s) => s !== 200)).toEqual([]);
    expect(readyCounts.length).toBeGreaterThan(3);
    expect(Math.min(...readyCounts)).toBeGreaterThanOrEqual(2);
    const after = (await status(dir)).components[0]!.replicas;
    expect(after.map((r) => [r.index, r.state])).toEqual([
      [2, "ready"],
      [3, "ready"],
    ]);
    for (const r of after) expect(before).not.toContain(r.pid);
    for (const pid of before) expect(alive(pid!)).toBe(false);
    // The next restart moves each slot back to its first index.
    expect((await steward(dir, "restart", "web")).code).toBe(0);
    expect((await status(dir)).components[0]!.replicas.map((r) => r.index)).toEqual([0, 1]);
  });

  it("a replacement that fails readiness halts the rolling restart; the old replicas keep serving", async () => {
    const { dir, port } = await topology(2);
    expect((await steward(dir, "up")).code).toBe(0);
    const old = (await status(dir)).components[0]!.replicas.map((r) => r.pid);
    fs.writeFileSync(path.join(dir, "broken"), "");
    const restart = await steward(dir, "restart", "web");
    expect(restart.code).toBe(1);
    expect(restart.stdout).toMatch(
      /web\[2\] did not become ready: .*the restart stopped here and web\[0\] keeps serving/,
    );
    const replicas = (await status(dir)).components[0]!.replicas;
    expect(replicas.map((r) => [r.index, r.state, r.pid])).toEqual([
      [0, "ready", old[0]],
      [1, "ready", old[1]],
    ]);
    const answers = new Set<string>();
    for (let i = 0; i < 6; i += 1) answers.add((await get(port, "/who")).body);
    expect(answers).toEqual(new Set([`replica 0 pid ${old[0]}\n`, `replica 1 pid ${old[1]}\n`]));
  });

  it("a daemon killed while a replacement is starting: the new daemon retires it and finishes the restart", async () => {
    const { dir, port } = await topology(2);
    expect((await steward(dir, "up")).code).toBe(0);
    const old = (await status(dir)).components[0]!.replicas.map((r) => r.pid);
    fs.writeFileSync(path.join(dir, "not-ready"), "");
    const restart = steward(dir, "restart", "web");
    const surge = await waitFor("web[2] running beside web[0]", async () => {
      const d = await status(dir);
      return d.components[0]!.replicas.find((r) => r.index === 2 && r.state === "running");
    });
    const { daemon } = await status(dir);
    process.kill(daemon.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !alive(daemon.pid));
    const interrupted = await restart;
    expect(interrupted.stderr).toMatch(/the daemon ended while the operation was under way/);
    fs.rmSync(path.join(dir, "not-ready"));
    // `up` starts a daemon, which recovers: web[2] is retired and the restart resumes.
    const resumed = await steward(dir, "up");
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitFor(
      "the restart to finish",
      async () => {
        const doc = await status(dir);
        return (
          doc.daemon.state === "active" &&
          doc.components[0]!.replicas.every((r) => r.state === "ready" && !old.includes(r.pid)) &&
          doc.components[0]!.replicas.length === 2
        );
      },
      20_000,
    );
    expect(alive(surge.pid!)).toBe(false);
    for (const pid of old) expect(alive(pid!)).toBe(false);
    expect((await get(port, "/who")).status).toBe(200);
    const db = openStateDb(dir);
    const op = db.prepare("SELECT status, resumes FROM operations WHERE kind = 'restart'").get();
    db.close();
    expect(op).toEqual({ status: "done", resumes: 1 });
  });

  it("a component no route reaches is restarted in place, one replica at a time", async () => {
    const dir = project(`
name: workers
components:
  worker:
    command: ${node("forever.js")}
    replicas: 2
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const restart = await steward(dir, "restart", "worker");
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stdout).toMatch(/replacing worker\[0\] \(1 other\(s\) serving\)/);
    expect((await status(dir)).components[0]!.replicas.map((r) => [r.index, r.state])).toEqual([
      [0, "ready"],
      [1, "ready"],
    ]);
  });

  it("`daemon restart` under a steady request loop fails no request: the next daemon inherits the listening socket", async () => {
    const { dir, port } = await topology(2);
    expect((await steward(dir, "up")).code).toBe(0);
    const before = await status(dir);
    let stop = false;
    const results: string[] = [];
    const loop = (async () => {
      while (!stop)
        results.push(
          await get(port, "/who").then(
            (r) => String(r.status),
            (err: Error) => err.message,
          ),
        );
    })();
    await waitFor("some requests", () => results.length > 20);
    const restart = await steward(dir, "daemon", "restart");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    const after = await status(dir);
    expect(after.daemon.pid).not.toBe(before.daemon.pid);
    expect(after.daemon.bootKind).toBe("handover");
    const at = results.length;
    await waitFor("requests after the restart", () => results.length > at + 20);
    stop = true;
    await loop;
    expect(results.filter((r) => r !== "200")).toEqual([]);
    expect(after.components[0]!.replicas.map((r) => r.pid)).toEqual(
      before.components[0]!.replicas.map((r) => r.pid),
    );
    expect(fs.readFileSync(path.join(dir, ".steward", "logs", "daemon.log"), "utf8")).toMatch(
      /started daemon \d+ with 1 listening socket/,
    );
  });

  it("a component on a fixed port is routed on the port its readiness probe names", async () => {
    const [edgePort, fixed] = [await freePort(), await freePort()];
    const dir = project(`
name: fixed
components:
  web:
    command: ${node("edge-upstream.js")}
    env: { PORT: "${fixed}", REPLICA: "0" }
    ready: { http: "http://127.0.0.1:${fixed}/healthz", within: 10s }
routes:
  - { listen: "127.0.0.1:${edgePort}", path: /, to: web }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const pid = (await status(dir)).components[0]!.replicas[0]!.pid;
    expect((await get(edgePort, "/who")).body).toBe(`replica 0 pid ${pid}\n`);
  });

  it("maintenance: the route answers 503 with the component's offline code", async () => {
    const { dir, port } = await topology(1);
    expect((await steward(dir, "up")).code).toBe(0);
    expect((await steward(dir, "maintenance", "on")).code).toBe(0);
    const res = await get(port, "/who");
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe("WEB_OFFLINE");
    expect(res.headers["retry-after"]).toBeDefined();
    expect((await steward(dir, "maintenance", "off")).code).toBe(0);
    expect((await get(port, "/who")).status).toBe(200);
  });
});
