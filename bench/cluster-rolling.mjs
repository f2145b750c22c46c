#!/usr/bin/env node
// Rolling operations under load (issue 12): a rolling restart and a patch cycle's rolling cutover
// on 3 nodes × 2 replicas, with load through every node's edge at once, beside a single-node
// cutover of the same application — see bench/README.md.
//
//   node bench/cluster-rolling.mjs [--runs 1] [--setting default|fast] [--steady 6]
//                                  [--connections 4] [--threads 1] [--load wrk|node] [--keep]
//
// Per run, in a fresh temporary directory and a database of its own on the PostgreSQL at
// 127.0.0.1:5432 (dropped afterwards):
// - cluster: nodes n1..n3 (homes of their own, advertised 127.0.0.1..3), each running
//   bench/fixtures/rolling-app (2 replicas, ready on /healthz, drained) from patch editions and
//   routing it on <advertise>:<port>. One load generator per edge (wrk, or a node loop), all at once:
//   (1) steady, `--steady` s; (2) around `steward restart --cluster` (asked on n1); (3) around
//   `steward patch cutover` (asked on n1) after prepare → apply → finalize of a patch found on n1's
//   disk only. A load window opens 1 s before the operation and closes 1 s after it returns.
// - single node: the same application, no cluster, the same 3 load generators against its one
//   edge: steady, then around `steward patch cutover`.
// Failed = non-2xx answers + socket errors (connect, read, write, timeout 2 s). p99 is per edge
// (wrk cannot merge percentiles); the report gives the worst edge and each one.
// Results: bench/results/cluster-rolling-<date>[-fast][-node-load].{md,json}.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  Cleanups,
  NODE,
  benchEnv,
  freePort,
  median,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
  stewardVersion,
  versions,
  which,
} from "./lib/common.mjs";
import { ensureWrk, parseWrk } from "./lib/wrk.mjs";

const SETTINGS = {
  default: { heartbeat: "1s", heartbeatMs: 1000, misses: 2, lease: "10s" },
  fast: { heartbeat: "200ms", heartbeatMs: 200, misses: 2, lease: "2s" },
};
const opts = {
  runs: 1,
  setting: "default",
  steady: 6,
  connections: 4,
  threads: 1,
  load: "wrk",
  keep: false,
  probe: false,
};
const usage =
  "usage: node bench/cluster-rolling.mjs [--runs N] [--setting default|fast] [--steady S] [--connections N] [--threads N] [--load wrk|node] [--probe] [--keep]";
for (let i = 2; i < process.argv.length; i += 1) {
  const a = process.argv[i];
  if (a === "--keep") opts.keep = true;
  else if (a === "--probe") opts.probe = true;
  else if (a === "--help") {
    console.log(usage);
    process.exit(0);
  } else if (a === "--setting" || a === "--load") opts[a.slice(2)] = process.argv[++i];
  else if (a.startsWith("--") && a.slice(2) in opts) opts[a.slice(2)] = Number(process.argv[++i]);
  else {
    console.error(`unknown argument ${a}\n${usage}`);
    process.exit(2);
  }
}
if (!SETTINGS[opts.setting] || !["wrk", "node"].includes(opts.load) || !(opts.runs >= 1)) {
  console.error(usage);
  process.exit(2);
}
const missing = stewardMissing();
if (missing) {
  console.error(missing);
  process.exit(2);
}
if (opts.load === "wrk") {
  try {
    ensureWrk();
  } catch (err) {
    console.log(`wrk unavailable (${err.message}): the load is a node loop instead`);
    opts.load = "node";
  }
  if (!which("wrk")) opts.load = "node";
}
const APP = path.join(root, "bench", "fixtures", "rolling-app");
const { env: baseEnv } = benchEnv(false);
const cleanups = new Cleanups().onSignals();
const log = (...a) => console.log(...a);
const round = (ms) => Math.round(ms);

// ---------------------------------------------------------------------------------------------
/** Runs the CLI in `dir` (its steward.yaml); resolves with its output and wall time. */
function steward(dir, ...args) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      NODE,
      [stewardCli(), ...args],
      { cwd: dir, env: { ...baseEnv, NO_COLOR: "1" }, maxBuffer: 16 << 20, timeout: 180_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
}

/** The last lines of a node's daemon log, for a failure's message. */
function daemonLog(dir, lines = 25) {
  try {
    const text = fs.readFileSync(path.join(dir, ".steward", "logs", "daemon.log"), "utf8");
    return text.trim().split("\n").slice(-lines).join("\n");
  } catch (err) {
    return `(no daemon log: ${err.message})`;
  }
}

/** Like `steward`, but a non-zero exit throws with the output and every node's daemon log tail. */
async function must(dir, nodes, ...args) {
  const r = await steward(dir, ...args);
  if (r.code !== 0) {
    const logs = nodes.map((n) => `--- ${n.name}: ${n.dir}/.steward/logs/daemon.log\n${daemonLog(n.dir)}`);
    throw new Error(
      `steward ${args.join(" ")} (in ${dir}) exited ${r.code}:\n${r.stdout}${r.stderr}\n${logs.join("\n")}`,
    );
  }
  return r;
}

function api(dir, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: path.join(dir, ".steward", "steward.sock"), path: p, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () =>
          res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${p}: ${res.statusCode}`)),
        );
      })
      .on("error", reject)
      .on("timeout", function () {
        this.destroy(new Error("timeout"));
      });
  });
}

async function waitFor(what, fn, timeoutMs, everyMs = 50) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Replicas of web in a node's edge routing (its own and other nodes'). */
async function inRouting(dir) {
  const web = (await api(dir, "/v1/status")).routing?.find((c) => c.component === "web");
  const n = (list) => (list ?? []).filter((r) => r.state === "in").length;
  return n(web?.replicas) + n(web?.remote);
}

function get(host, port) {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: "/", agent: false, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 ? body.trim() : `status ${res.statusCode}`));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve(`error ${err.message}`));
  });
}

// ---------------------------------------------------------------------------------------------
// Load: one generator per edge; `stop()` ends it and resolves with wrk's figures.
const running = new Set();
cleanups.push(() => {
  for (const child of running) child.kill("SIGKILL");
});

function wrkLoad(host, port, outFile) {
  const out = fs.openSync(outFile, "w");
  const child = spawn(
    "wrk",
    [
      `-t${opts.threads}`,
      `-c${opts.connections}`,
      "-d600s",
      "--timeout",
      "2s",
      "--latency",
      `http://${host}:${port}/`,
    ],
    { env: baseEnv, stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  running.add(child);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    async stop() {
      child.kill("SIGINT"); // wrk stops and prints its figures
      const { code, signal } = await exited;
      running.delete(child);
      const text = fs.readFileSync(outFile, "utf8");
      if (code !== 0) throw new Error(`wrk on ${host}:${port} exited ${code ?? signal}: ${text.slice(-400)}`);
      return { host, ...parseWrk(text) };
    },
  };
}

/** The same figures from `connections` keep-alive request loops in this process (no wrk). */
function nodeLoad(host, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const latencies = [];
  const f = { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 };
  let stop = false;
  const t0 = performance.now();
  const one = () =>
    new Promise((resolve) => {
      const s = performance.now();
      const req = http.get({ host, port, path: "/", agent, timeout: 2000 }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - s);
          if (res.statusCode < 200 || res.statusCode >= 400) f.non2xx += 1;
          resolve();
        });
        res.on("error", () => ((f.read += 1), resolve()));
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      req.on("error", (err) => {
        if (err.code === "TIMEOUT") f.timeout += 1;
        else if (err.code === "ECONNREFUSED") f.connect += 1;
        else f.read += 1;
        resolve();
      });
    });
  const loops = Array.from({ length: opts.connections }, async () => {
    while (!stop) await one();
  });
  return {
    async stop() {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
      const seconds = (performance.now() - t0) / 1000;
      const s = latencies.sort((a, b) => a - b);
      const pct = (p) => +(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN).toFixed(2);
      const failed = f.connect + f.read + f.write + f.timeout + f.non2xx;
      return {
        host,
        requests: s.length + f.connect + f.read + f.timeout,
        seconds,
        rps: s.length / seconds,
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: +(s.at(-1) ?? NaN).toFixed(2),
        ...f,
        failed,
      };
    },
  };
}

/**
 * With --probe: `GET /v1/status` on each daemon's control socket every 25 ms, one at a time; the
 * slowest answers tell whether the daemon's event loop (which also runs its edge) stalled, and when.
 */
function startProbe(dirs) {
  let stop = false;
  const t0 = Date.now();
  const loops = [...new Set(dirs)].map(async (dir) => {
    const slow = [];
    let n = 0;
    while (!stop) {
      const s = performance.now();
      await api(dir, "/v1/status").catch(() => undefined);
      const ms = performance.now() - s;
      n += 1;
      slow.push({ atMs: Date.now() - t0 - round(ms), ms: round(ms) });
      slow.sort((a, b) => b.ms - a.ms).splice(3);
      await sleep(25);
    }
    return { node: path.basename(dir), probes: n, slowest: slow };
  });
  return async () => {
    stop = true;
    return Promise.all(loops);
  };
}

/**
 * The longest pause between two consecutive answers in each edge's access log within [from, to]
 * (epoch ms): under steady load a pause is the edge not answering at all (a stall), whatever wrk
 * makes of it.
 */
function edgePauses(dirs, from, to) {
  return [...new Set(dirs)].map((dir) => {
    const logDir = path.join(dir, ".steward", "logs", "edge");
    const times = [];
    for (const f of fs.existsSync(logDir) ? fs.readdirSync(logDir) : [])
      if (f.startsWith("access.log"))
        for (const m of fs.readFileSync(path.join(logDir, f), "utf8").matchAll(/"time":"([^"]+)"/g)) {
          const t = Date.parse(m[1]);
          if (t >= from && t <= to) times.push(t);
        }
    times.sort((a, b) => a - b);
    let longest = { ms: 0, at: null };
    for (let i = 1; i < times.length; i += 1)
      if (times[i] - times[i - 1] > longest.ms)
        longest = { ms: times[i] - times[i - 1], at: new Date(times[i - 1]).toISOString() };
    // What the daemon logged around a pause of 150 ms or more.
    const around = [];
    if (longest.ms >= 150) {
      const t = Date.parse(longest.at);
      for (const line of daemonLog(dir, 400).split("\n")) {
        const lt = Date.parse(line.slice(0, 24));
        if (lt >= t - 500 && lt <= t + longest.ms + 100) around.push(line);
      }
    }
    return { node: path.basename(dir), answers: times.length, ...longest, daemonLog: around };
  });
}

/** Load on every edge at once; `stop()` resolves with the figures summed over the edges. */
function startLoad(edges, tmp, label) {
  const gens = edges.map((e, i) =>
    opts.load === "wrk"
      ? wrkLoad(e.host, e.port, path.join(tmp, `wrk-${label}-${i}.txt`))
      : nodeLoad(e.host, e.port),
  );
  const t0 = performance.now();
  const from = Date.now();
  const probe = opts.probe ? startProbe(edges.map((e) => e.dir)) : undefined;
  return {
    async stop() {
      const per = await Promise.all(gens.map((g) => g.stop()));
      const daemonProbe = await probe?.();
      // Past the first and last 200 ms: the generators start and stop there.
      const pauses = edgePauses(
        edges.map((e) => e.dir),
        from + 200,
        Date.now() - 200,
      );
      const sum = (k) => per.reduce((a, r) => a + r[k], 0);
      return {
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
        requests: sum("requests"),
        rps: Math.round(sum("rps")),
        failed: sum("failed"),
        non2xx: sum("non2xx"),
        socketErrors: sum("connect") + sum("read") + sum("write") + sum("timeout"),
        p99: Math.max(...per.map((r) => r.p99)),
        max: Math.max(...per.map((r) => r.max)),
        perEdge: per.map((r) => ({
          host: r.host,
          requests: r.requests,
          failed: r.failed,
          p50: r.p50,
          p99: r.p99,
          max: r.max,
        })),
        longestPause: Math.max(...pauses.map((p) => p.ms)),
        pauses,
        ...(daemonProbe ? { daemonProbe } : {}),
      };
    },
  };
}

/** Load for `opts.steady` seconds. */
async function steadyWindow(edges, tmp, label) {
  const load = startLoad(edges, tmp, label);
  await sleep(opts.steady * 1000);
  return load.stop();
}

/** Load from 1 s before `operation` until 1 s after it returns; the operation's wall time. */
async function duringWindow(edges, tmp, label, operation) {
  const load = startLoad(edges, tmp, label);
  try {
    await sleep(1000);
    const r = await operation();
    await sleep(1000);
    return { operationMs: round(r.ms), output: r.stdout.trim(), load: await load.stop() };
  } catch (err) {
    await load.stop().catch(() => undefined);
    throw err;
  }
}

/** Through each edge, 30 requests: the versions answered and how many replicas (pids) served them. */
async function servedThrough(edges) {
  const out = [];
  for (const e of edges) {
    const versions = new Set();
    const pids = new Set();
    for (let i = 0; i < 30; i += 1) {
      const [v, pid] = (await get(e.host, e.port)).split(" ");
      versions.add(v);
      pids.add(pid);
    }
    out.push({ host: e.host, versions: [...versions], replicas: pids.size });
  }
  return out;
}

function writePatch(dir) {
  const p = path.join(dir, "patches", "v2");
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), "id: v2\ndescription: version 2 of the edition app\n");
  fs.writeFileSync(path.join(p, "files", "version.txt"), "2\n");
  return p;
}

function appYaml({ cluster, route }) {
  return `name: bench-rolling
${cluster ?? ""}components:
  web:
    command: ${JSON.stringify(`${NODE} server.js`)}
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 5s }
    stop: { grace: 3s }
    drain: { timeout: 3s }
routes:
  - { listen: "${route}", to: web }
patching:
  root: editions
`;
}

/** prepare → apply (the patch on `from`'s disk) → finalize, each timed. */
async function patchCycle(from, nodes) {
  const prepare = await must(from.dir, nodes, "patch", "prepare");
  const apply = await must(from.dir, nodes, "patch", "apply", writePatch(from.dir));
  const finalize = await must(from.dir, nodes, "patch", "finalize");
  return { prepareMs: round(prepare.ms), applyMs: round(apply.ms), finalizeMs: round(finalize.ms) };
}

// ---------------------------------------------------------------------------------------------
async function clusterRun(base, s) {
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres" });
  await admin.connect();
  const db = `bench_rolling_${process.pid}_${Date.now() % 100000}`;
  await admin.query(`CREATE DATABASE ${db}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });
  const port = await freePort();
  const nodes = [];
  for (let i = 1; i <= 3; i += 1) {
    const advertise = `127.0.0.${i}`;
    const dir = path.join(base, `n${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.cpSync(APP, path.join(dir, "app"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "steward.yaml"),
      appYaml({
        cluster: `store: postgres://postgres@127.0.0.1:5432/${db}
cluster:
  node: n${i}
  advertise: ${advertise}
  heartbeat: ${s.heartbeat}
  allowed_misses: ${s.misses}
  lease: ${s.lease}
`,
        route: `${advertise}:${port}`,
      }),
    );
    nodes.push({ name: `n${i}`, dir, host: advertise, port });
    cleanups.push(() => steward(dir, "down"));
  }
  for (const n of nodes) await must(n.dir, nodes, "patch", "init", "--from", "app");
  const ups = await Promise.all(nodes.map((n) => steward(n.dir, "up")));
  for (const [i, u] of ups.entries())
    if (u.code !== 0) throw new Error(`n${i + 1}: up failed: ${u.stdout}${u.stderr}`);
  let routed = [];
  const allRouted = (after) =>
    waitFor(
      "every node's edge routing to 6 web replicas",
      async () => (routed = await Promise.all(nodes.map((n) => inRouting(n.dir)))).every((x) => x === 6),
      60_000,
    ).catch(async (err) => {
      const routing = await Promise.all(
        nodes.map(async (n) => {
          const doc = await api(n.dir, "/v1/status").catch((e) => ({ error: e.message }));
          return `${n.name}: ${JSON.stringify(doc.routing ?? doc)}`;
        }),
      );
      throw new Error(
        `${err.message} ${after}: in routing ${routed.join(" / ")}\n${routing.join("\n")}\n` +
          nodes.map((n) => `--- ${n.name} daemon.log\n${daemonLog(n.dir)}`).join("\n"),
      );
    });
  await allRouted("after up");
  const n1 = nodes[0];
  const out = { servedAfterUp: await servedThrough(nodes) };
  if (out.servedAfterUp.some((e) => e.replicas !== 6))
    throw new Error(`an edge does not reach all 6 replicas: ${JSON.stringify(out.servedAfterUp)}`);
  log("  cluster: steady");
  out.steady = await steadyWindow(nodes, base, "cluster-steady");
  log("  cluster: restart --cluster");
  out.restart = await duringWindow(nodes, base, "cluster-restart", () =>
    must(n1.dir, nodes, "restart", "--cluster"),
  );
  await allRouted("after restart --cluster");
  out.servedAfterRestart = await servedThrough(nodes);
  log("  cluster: patch cycle");
  out.phases = await patchCycle(n1, nodes);
  out.cutover = await duringWindow(nodes, base, "cluster-cutover", () =>
    must(n1.dir, nodes, "patch", "cutover"),
  );
  await allRouted("after the cutover");
  out.servedAfterCutover = await servedThrough(nodes);
  await Promise.all(nodes.map((n) => steward(n.dir, "down")));
  return out;
}

async function singleRun(base) {
  const dir = path.join(base, "single");
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(APP, path.join(dir, "app"), { recursive: true });
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "steward.yaml"), appYaml({ route: `127.0.0.1:${port}` }));
  const node = { name: "single", dir, host: "127.0.0.1", port };
  cleanups.push(() => steward(dir, "down"));
  await must(dir, [node], "patch", "init", "--from", "app");
  await must(dir, [node], "up");
  await waitFor("the edge routing to 2 web replicas", async () => (await inRouting(dir)) === 2, 30_000);
  // The same load as the cluster's: one generator per cluster node, here all on the one edge.
  const edges = [node, node, node];
  const out = {};
  log("  single node: steady");
  out.steady = await steadyWindow(edges, base, "single-steady");
  log("  single node: patch cycle");
  out.phases = await patchCycle(node, [node]);
  out.cutover = await duringWindow(edges, base, "single-cutover", () =>
    must(dir, [node], "patch", "cutover"),
  );
  out.servedAfterCutover = await servedThrough([node]);
  await steward(dir, "down");
  return out;
}

// ---------------------------------------------------------------------------------------------
const results = [];
let failure;
try {
  for (let n = 1; n <= opts.runs; n += 1) {
    log(`run ${n} (setting ${opts.setting}, load ${opts.load})`);
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "stw-bench-rolling-"));
    if (opts.keep) log(`  keeping ${base}`);
    else cleanups.push(() => fs.rmSync(base, { recursive: true, force: true }));
    const t0 = performance.now();
    const cluster = await clusterRun(base, SETTINGS[opts.setting]);
    const single = await singleRun(base);
    results.push({ run: n, seconds: round((performance.now() - t0) / 1000), cluster, single });
    await cleanups.run();
  }
} catch (err) {
  failure = err;
  console.error(`FAILED: ${err.stack ?? err.message}`);
} finally {
  await cleanups.run();
}
if (results.length === 0) process.exit(1);

// ---------------------------------------------------------------------------------------------
const date = new Date().toISOString().slice(0, 10);
const s = SETTINGS[opts.setting];
const ratio = (during, steady) => (during / steady).toFixed(1);
const caseRow = (r, name, op, steady) =>
  `| ${r.run} | ${name} | ${op.operationMs} | ${op.load.requests} | ${op.load.failed} (${op.load.non2xx} non-2xx, ${op.load.socketErrors} socket) | ${steady.p99} | ${op.load.p99} (${ratio(op.load.p99, steady.p99)}×) | ${op.load.max} | ${op.load.longestPause} |`;
const steadyRow = (r, name, steady) =>
  `| ${r.run} | ${name} | — | ${steady.requests} | ${steady.failed} (${steady.non2xx} non-2xx, ${steady.socketErrors} socket) | ${steady.p99} | — | ${steady.max} | ${steady.longestPause} |`;
const rows = results.flatMap((r) => [
  steadyRow(r, "3 nodes: steady", r.cluster.steady),
  caseRow(r, "3 nodes: `restart --cluster`", r.cluster.restart, r.cluster.steady),
  caseRow(r, "3 nodes: `patch cutover` (rolling)", r.cluster.cutover, r.cluster.steady),
  steadyRow(r, "1 node: steady", r.single.steady),
  caseRow(r, "1 node: `patch cutover`", r.single.cutover, r.single.steady),
]);
const served = (list) =>
  list.map((e) => `${e.versions.join(",")} from ${e.replicas} replicas via ${e.host}`).join("; ");
const pauseText = (w) =>
  w.load.pauses
    .map(
      (p) =>
        `${p.node} ${p.ms} ms${p.ms >= 150 ? ` at ${p.at.slice(11, 23)}${p.daemonLog.length ? `, its daemon.log around it:\n  ${p.daemonLog.join("\n  ")}\n` : ""}` : ""}`,
    )
    .join("; ");
const perEdge = (w) => w.load.perEdge.map((e) => `${e.host} ${e.p99}`).join(", ");
const details = results
  .map(
    (
      r,
    ) => `Run ${r.run} (${r.seconds} s): cluster patch phases prepare / apply / finalize ${r.cluster.phases.prepareMs} / ${r.cluster.phases.applyMs} / ${r.cluster.phases.finalizeMs} ms, single node ${r.single.phases.prepareMs} / ${r.single.phases.applyMs} / ${r.single.phases.finalizeMs} ms; after the cutover, 30 requests through each edge answered ${served(r.cluster.servedAfterCutover)} (3 nodes) and ${served(r.single.servedAfterCutover)} (1 node); after the restart ${served(r.cluster.servedAfterRestart)}; p99 by edge (ms) — restart: ${perEdge(r.cluster.restart)}; cluster cutover: ${perEdge(r.cluster.cutover)}; req/s steady ${r.cluster.steady.rps} (3 nodes), ${r.single.steady.rps} (1 node).

Longest pause in each edge's access log — restart: ${pauseText(r.cluster.restart)}; cluster cutover: ${pauseText(r.cluster.cutover)}; single-node cutover: ${pauseText(r.single.cutover)}.

\`restart --cluster\` said:
\`\`\`
${r.cluster.restart.output}
\`\`\`
\`patch cutover\` (3 nodes) said:
\`\`\`
${r.cluster.cutover.output}
\`\`\``,
  )
  .join("\n\n");
const loadText =
  opts.load === "wrk"
    ? `wrk \`-t${opts.threads} -c${opts.connections} --timeout 2s --latency\``
    : `a node keep-alive loop of ${opts.connections} connections (wrk was not available)`;
const md = `# Rolling restart and rolling cutover under load — ${date}

3 nodes (n1..n3 on 127.0.0.1..3, one machine, PostgreSQL at 127.0.0.1:5432; heartbeat ${s.heartbeat},
${s.misses} misses, lease ${s.lease}) × 2 replicas of \`bench/fixtures/rolling-app\` (run from patch
editions, listening on 127.0.0.1 and the node's advertised address, ready on /healthz, drain 3 s), each node routing it on its own edge. Load: ${loadText} against **each** node's edge at
once (3 generators); the single node gets the same 3 generators on its one edge. A load window opens
1 s before the operation and closes 1 s after it returns. Failed = non-2xx + socket errors. p99 is
the worst edge's (per edge below). Longest edge pause: the longest time between two consecutive answers
in any edge's access log in the window (under this load the edge answers every few ms; a long pause
is the edge not answering at all). \`node bench/cluster-rolling.mjs --runs ${opts.runs} --setting ${opts.setting} --steady ${opts.steady}\`.

| run | case | operation wall time (ms) | requests | failed | p99 steady (ms) | p99 during (ms) | max during (ms) | longest edge pause (ms) |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

${details}
${failure ? `\n**A later run failed**: ${failure.message.split("\n")[0]}\n` : ""}
Median operation time: \`restart --cluster\` ${median(results.map((r) => r.cluster.restart.operationMs))} ms, cluster cutover ${median(results.map((r) => r.cluster.cutover.operationMs))} ms, single-node cutover ${median(results.map((r) => r.single.cutover.operationMs))} ms.

Steward ${stewardVersion()}; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${JSON.stringify(versions())}.
`;
const tags = [opts.setting === "default" ? "" : opts.setting, opts.load === "wrk" ? "" : "node-load"];
const name = ["cluster-rolling", date, ...tags.filter(Boolean)].join("-");
const file = saveResults(name, md, {
  date,
  opts,
  setting: s,
  steward: stewardVersion(),
  versions: versions(),
  results,
  failure: failure?.message,
});
log(md);
log(`saved ${file}.{md,json}`);
process.exit(failure ? 1 : 0);
