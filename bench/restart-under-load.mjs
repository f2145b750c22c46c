#!/usr/bin/env node
// Restart under load: how many requests fail while a component is restarted three times under wrk
// load — Steward (rolling restart through its edge; and one replica with `hold` on the route) vs PM2
// (cluster mode `pm2 reload`, fork mode `pm2 restart`), in the same run (see bench/README.md).
//
//   node bench/restart-under-load.mjs [--duration 20] [--restarts 3] [--gap 2] [--delay 2] [--runs 1]
//                                     [--only steward,steward-hold,pm2-cluster,pm2-fork] [--keep]
//
// Every system runs the same upstream (a node:http server answering 200 "ok", which on SIGTERM or
// SIGINT stops accepting, finishes its in-flight requests and exits 0). For each system: start it,
// wait until the target port answers, an unrecorded wrk warm-up, then `wrk --latency` for the
// duration while the restart command runs `--restarts` times (the first `--delay` s into the load,
// then `--gap` s after the previous one finished). Failed requests are wrk's socket errors
// (connect, read, write, timeout) plus its non-2xx/3xx answers. The table is printed and saved to
// bench/results/restart-under-load-<date>[-<only>].{md,json}.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Cleanups,
  NODE,
  NODE_EXE,
  STRIPPED_ENV,
  benchEnv,
  commandRunner,
  freePort,
  median,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
  stewardVersion,
  versions,
} from "./lib/common.mjs";
import { Census, TAG_VAR, alive, sweepUntilQuiet, waitGone } from "./lib/proc.mjs";
import { ensureWrk as installWrk, parseWrk } from "./lib/wrk.mjs";

const SYSTEMS = ["steward", "steward-hold", "pm2-cluster", "pm2-fork"];
const LABELS = {
  steward: "Steward, 2 replicas, `steward restart app` (rolling, through the edge)",
  "steward-hold": "Steward, 1 replica, `hold: 10s` on the route, `steward restart app` (stop + start)",
  "pm2-cluster": "PM2 cluster mode, 2 instances, `pm2 reload app`",
  "pm2-fork": "PM2 fork mode, 1 instance, `pm2 restart app`",
};
/** How many upstream processes each system runs. */
const INSTANCES = { steward: 2, "steward-hold": 1, "pm2-cluster": 2, "pm2-fork": 1 };

// ---------------------------------------------------------------------------------------------
// Arguments.
function usage(code) {
  console.log(`usage: node bench/restart-under-load.mjs [options]
  --duration S     seconds of measured wrk load per system and run (default 20)
  --restarts N     restarts under load (default 3)
  --delay S        seconds into the load before the first restart (default 2)
  --gap S          seconds between the end of a restart and the next one (default 2)
  --warmup S       unrecorded wrk seconds before the measured load (default 2)
  --runs N         runs over all systems, the order rotating each run (default 1)
  --connections N  wrk connections (default 50)
  --threads N      wrk threads (default 2)
  --timeout S      wrk's --timeout: a request slower than this counts as a timeout (default 2)
  --only LIST      comma-separated subset of: ${SYSTEMS.join(", ")}
  --keep           keep the temporary directory (topology, configs, logs, every command's output)
  --keep-env       do not remove ${STRIPPED_ENV.join(", ")} from the environment of what the benchmark runs`);
  process.exit(code);
}
const opts = {
  duration: 20,
  restarts: 3,
  delay: 2,
  gap: 2,
  warmup: 2,
  runs: 1,
  connections: 50,
  threads: 2,
  timeout: 2,
  only: SYSTEMS,
  keep: false,
  keepEnv: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const val = () => {
    const v = process.argv[++i];
    if (v === undefined) usage(2);
    return v;
  };
  if (a === "--duration") opts.duration = Number(val());
  else if (a === "--restarts") opts.restarts = Number(val());
  else if (a === "--delay") opts.delay = Number(val());
  else if (a === "--gap") opts.gap = Number(val());
  else if (a === "--warmup") opts.warmup = Number(val());
  else if (a === "--runs") opts.runs = Number(val());
  else if (a === "--connections") opts.connections = Number(val());
  else if (a === "--threads") opts.threads = Number(val());
  else if (a === "--timeout") opts.timeout = Number(val());
  else if (a === "--only") opts.only = val().split(",").filter(Boolean);
  else if (a === "--keep") opts.keep = true;
  else if (a === "--keep-env") opts.keepEnv = true;
  else if (a === "--help" || a === "-h") usage(0);
  else {
    console.error(`unknown argument ${a}`);
    usage(2);
  }
}
for (const s of opts.only) {
  if (!SYSTEMS.includes(s)) {
    console.error(`--only: unknown system ${s}`);
    usage(2);
  }
}
const wholes = [opts.duration, opts.restarts, opts.runs, opts.connections, opts.threads, opts.timeout];
if (!wholes.every((n) => Number.isInteger(n) && n >= 1)) usage(2);
if (![opts.delay, opts.gap, opts.warmup].every((n) => n >= 0)) usage(2);

const { env: baseEnv, stripped } = benchEnv(opts.keepEnv);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "steward-restart-load-"));
const log = (...a) => console.log(...a);
const runCommand = commandRunner(tmpRoot, baseEnv);
const tagOf = (system) => `${system}-restart-load-${process.pid}`;
// Whatever this benchmark started holds one of these in its command line or environment: the
// daemons name files in tmpRoot (PM2 through PM2_HOME), the upstreams carry a tag ending in our pid.
const markers = [tmpRoot, ...SYSTEMS.map((s) => `${TAG_VAR}=${tagOf(s)}\0`)];
const wrkChildren = new Set();
const cleanups = new Cleanups().onSignals(async () => {
  for (const c of wrkChildren) c.kill("SIGKILL");
  const swept = await sweepUntilQuiet(markers);
  if (swept.length) console.error(`killed ${swept.length} process(es) still running: ${swept.join(" ")}`);
  if (!opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The upstream, the same program for every system. CommonJS, so that PM2's cluster mode (which
// require()s the script in its workers) runs it as it is.
const UPSTREAM = path.join(tmpRoot, "upstream.cjs");
fs.writeFileSync(
  UPSTREAM,
  `// bench/restart-under-load.mjs's upstream: 200 "ok" on every request, keep-alive. On SIGTERM or
// SIGINT (PM2's default stop signal) it stops accepting, lets in-flight requests finish (Node >= 19
// closes idle keep-alive connections in server.close()) and exits 0.
const http = require("node:http");
const port = Number(process.env.PORT);
const OK = Buffer.from("ok");
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": OK.length });
  res.end(OK);
});
server.keepAliveTimeout = 65000;
server.on("error", (err) => {
  console.error("upstream: cannot listen on " + port + ": " + err.message);
  process.exit(1);
});
server.listen(port, "127.0.0.1");
let closing = false;
const bye = () => {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
};
process.on("SIGTERM", bye);
process.on("SIGINT", bye);
`,
);

// ---------------------------------------------------------------------------------------------
// Helpers.
const ensureWrk = () => installWrk(log);

/** One GET / on a fresh connection: resolves with the status and body, rejects on a socket error. */
function getOnce(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 2 s")));
    req.on("error", reject);
  });
}

/** Waits until GET / on `port` answers 200 "ok". */
async function waitOk(port, what, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  let last;
  while (performance.now() < deadline) {
    try {
      const r = await getOnce(port);
      if (r.status === 200 && r.body === "ok") return;
      last = `answered ${r.status} ${r.body.slice(0, 120)}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(50);
  }
  throw new Error(`${what} on port ${port} did not answer 200 "ok" within ${timeoutMs} ms: ${last}`);
}

/** Starts wrk; returns { child, done } where done resolves with its output (rejects if wrk fails). */
function startWrk(port, seconds, outFile) {
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${seconds}s`,
    `--timeout`,
    `${opts.timeout}s`,
    "--latency",
    `http://127.0.0.1:${port}/`,
  ];
  const out = fs.openSync(outFile, "w");
  const child = spawn("wrk", args, { env: baseEnv, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  wrkChildren.add(child);
  const done = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      wrkChildren.delete(child);
      const text = fs.readFileSync(outFile, "utf8");
      if (code === 0) resolve(text);
      else reject(new Error(`wrk exited with ${code ?? signal}: ${text.slice(-500)}`));
    });
  });
  return { child, done, args };
}

const since = (t0) => (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------
// The systems. Each: setup() → { port, restart: argv, logs: [files] }, teardown() → leftovers.
function stewardSystem(system) {
  const cli = stewardCli();
  const dir = path.join(tmpRoot, system);
  const home = path.join(dir, "home");
  const file = path.join(dir, "steward.yaml");
  const steward = (...args) => [NODE, cli, "-f", file, ...args];
  let daemonPid;
  return {
    daemonLog: path.join(home, "logs", "daemon.log"),
    async setup() {
      const port = await freePort();
      const hold = system === "steward-hold";
      const j = JSON.stringify; // a JSON string is a valid YAML scalar
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        file,
        [
          `name: bench-restart-load`,
          `home: ${j(home)}`,
          "components:",
          "  app:",
          `    command: [${j(NODE)}, ${j(UPSTREAM)}]`,
          `    replicas: ${hold ? 1 : 2}`,
          `    env: { PORT: "\${port}", ${TAG_VAR}: ${j(tagOf(system))} }`,
          "    ready: { http: /, within: 10s }",
          "    stop: { grace: 5s }",
          "    drain: { timeout: 5s }",
          "routes:",
          `  - { listen: "127.0.0.1:${port}", path: /, to: app${hold ? ", hold: 10s" : ""} }`,
          "",
        ].join("\n"),
      );
      await runCommand("steward up", steward("up"), { timeoutMs: 60_000 });
      const st = JSON.parse((await runCommand("steward status", steward("status", "--json"))).stdout);
      daemonPid = st.daemon?.pid;
      return { port, restart: steward("restart", "app"), restartLabel: "steward restart app" };
    },
    async teardown() {
      await runCommand("steward down", steward("down"), { allowFail: true, timeoutMs: 60_000 });
      if (daemonPid && alive(daemonPid)) {
        process.kill(daemonPid, "SIGTERM");
        await waitGone(daemonPid, 10_000).catch(() => process.kill(daemonPid, "SIGKILL"));
      }
    },
  };
}

function pm2System(system) {
  const pm2Bin = fs.realpathSync(path.join(root, "node_modules", ".bin", "pm2"));
  const home = path.join(tmpRoot, `${system}-home`);
  const env = { ...baseEnv, PM2_HOME: home };
  const pm2 = (...args) => [NODE, pm2Bin, ...args];
  const cluster = system === "pm2-cluster";
  let godPid;
  return {
    async setup() {
      fs.mkdirSync(home, { recursive: true });
      const port = await freePort();
      const eco = path.join(home, "ecosystem.config.cjs");
      const app = {
        name: "app",
        script: UPSTREAM,
        interpreter: NODE,
        exec_mode: cluster ? "cluster" : "fork",
        instances: cluster ? 2 : 1,
        kill_timeout: 5000, // as Steward's stop grace
        env: { PORT: String(port), [TAG_VAR]: tagOf(system) },
      };
      fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps: [app] }, null, 1)};\n`);
      await runCommand("pm2 start", pm2("start", eco), { env, timeoutMs: 60_000 });
      godPid = Number(fs.readFileSync(path.join(home, "pm2.pid"), "utf8"));
      const verb = cluster ? "reload" : "restart";
      return { port, restart: pm2(verb, "app"), restartLabel: `pm2 ${verb} app`, env };
    },
    async teardown() {
      await runCommand("pm2 kill", pm2("kill"), { env, allowFail: true, timeoutMs: 60_000 });
      if (godPid && alive(godPid)) process.kill(godPid, "SIGKILL");
    },
  };
}

/**
 * The census of one system's upstreams. PM2's cluster mode hands a worker its environment as one
 * JSON variable (`pm2_env`) that the worker unpacks at run time, so /proc/<pid>/environ holds
 * `"STEWARD_BENCH_TAG":"<tag>"` there instead of `STEWARD_BENCH_TAG=<tag>`: either one counts.
 */
class UpstreamCensus extends Census {
  constructor(tag, exe) {
    super(tag, exe);
    this.jsonNeedle = Buffer.from(`${JSON.stringify(TAG_VAR)}:${JSON.stringify(tag)}`);
  }
  isOurs(pid) {
    if (super.isOurs(pid)) return true;
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) !== this.exe) return false;
      return fs.readFileSync(`/proc/${pid}/environ`).includes(this.jsonNeedle);
    } catch {
      return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One measurement.
async function measure(system, run) {
  const sys = system.startsWith("steward") ? stewardSystem(system) : pm2System(system);
  const census = new UpstreamCensus(tagOf(system), NODE_EXE);
  census.reset();
  let tornDown = false;
  const teardown = async () => {
    if (tornDown) return 0;
    tornDown = true;
    for (const c of wrkChildren) c.kill("SIGKILL");
    await sys.teardown();
    const left = census.scan();
    census.killAll();
    await census.waitFor("no upstream is left", (n) => n === 0, 10_000).catch(() => {});
    return left;
  };
  cleanups.push(teardown);
  const result = { system, run, restarts: [] };
  try {
    const setup = await sys.setup();
    result.restartCommand = setup.restartLabel;
    await waitOk(setup.port, system);
    await census.waitFor(`${INSTANCES[system]} upstreams run`, (n) => n >= INSTANCES[system], 20_000);
    await census.settle();
    const runDir = path.join(tmpRoot, `${system}-run${run}`);
    fs.mkdirSync(runDir, { recursive: true });
    if (opts.warmup > 0) {
      const w = startWrk(setup.port, opts.warmup, path.join(runDir, "wrk-warmup.out"));
      result.warmup = parseWrk(await w.done);
    }
    result.pidsBefore = census.livePids().sort((a, b) => a - b);

    const t0 = performance.now();
    const wrk = startWrk(setup.port, opts.duration, path.join(runDir, "wrk.out"));
    result.wrkCommand = `wrk ${wrk.args.join(" ")}`;
    let wrkEnd;
    const wrkDone = wrk.done.then((out) => ((wrkEnd = since(t0)), out));
    wrkDone.catch(() => {}); // awaited below
    await sleep(opts.delay * 1000);
    for (let i = 1; i <= opts.restarts && !cleanups.interrupted; i++) {
      const before = census.livePids();
      const start = since(t0);
      const r = await runCommand(setup.restartLabel, setup.restart, {
        env: setup.env,
        allowFail: true,
        timeoutMs: 60_000,
      });
      const end = since(t0);
      const after = census.livePids();
      const replaced = before.filter((p) => !after.includes(p)).length;
      const rec = {
        i,
        start,
        end,
        seconds: r.seconds,
        code: r.code,
        replaced,
        running: after.length,
        duringLoad: wrkEnd === undefined,
        output: (r.stdout + r.stderr).trim().split("\n").slice(-12).join("\n"),
      };
      rec.ok = rec.code === 0 && rec.duringLoad && replaced === INSTANCES[system];
      result.restarts.push(rec);
      log(
        `    restart ${i}: ${start.toFixed(2)} → ${end.toFixed(2)} s (${r.seconds.toFixed(2)} s, exit ${r.code}), ` +
          `${replaced} of ${before.length} upstream(s) replaced, ${after.length} running` +
          (rec.duringLoad ? "" : " — AFTER the load ended"),
      );
      if (i < opts.restarts) await sleep(opts.gap * 1000);
    }
    const out = await wrkDone;
    result.wrk = parseWrk(out);
    result.wrkEnd = wrkEnd;
    result.wrkOutput = out;
    result.pidsAfter = census.livePids().sort((a, b) => a - b);
    result.restartsDone = result.restarts.filter((r) => r.ok).length;
    const w = result.wrk;
    log(
      `    ${w.requests} requests, ${w.failed} failed (connect ${w.connect}, read ${w.read}, write ${w.write}, ` +
        `timeout ${w.timeout}, non-2xx ${w.non2xx}), ${w.rps.toFixed(0)} req/s, p99 ${w.p99} ms, max ${w.max} ms`,
    );
    if (system.startsWith("steward") && fs.existsSync(sys.daemonLog)) {
      const lines = fs.readFileSync(sys.daemonLog, "utf8").trimEnd().split("\n");
      result.daemonLogProblems = lines.filter((l) => / (warn|error) /.test(l)).slice(-40);
      if (w.failed > 0) result.daemonLogTail = lines.slice(-80);
    }
  } catch (err) {
    result.error = err.message;
    console.error(`    FAILED: ${err.message}`);
  } finally {
    result.leftAfterTeardown = await teardown();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The report.
function summarize(results) {
  return opts.only.map((system) => {
    const rs = results.filter((r) => r.system === system && r.wrk);
    const sum = (f) => rs.reduce((n, r) => n + f(r), 0);
    const requests = sum((r) => r.wrk.requests);
    const failed = sum((r) => r.wrk.failed);
    // wrk's request count is the responses it read (non-2xx included); a socket error is an
    // attempt without a response, so the failed share is of responses + socket errors.
    const attempts = requests + sum((r) => r.wrk.failed - r.wrk.non2xx);
    return {
      system,
      label: LABELS[system],
      runs: rs.length,
      errors: results.filter((r) => r.system === system && r.error).map((r) => r.error),
      restartsDone: sum((r) => r.restartsDone),
      restartsWanted: rs.length * opts.restarts,
      restartSeconds: rs.flatMap((r) => r.restarts.map((x) => x.seconds)),
      requests,
      failed,
      attempts,
      failedPct: attempts > 0 ? (100 * failed) / attempts : NaN,
      failedPerRun: rs.map((r) => r.wrk.failed),
      kinds: Object.fromEntries(
        ["connect", "read", "write", "timeout", "non2xx"].map((k) => [k, sum((r) => r.wrk[k])]),
      ),
      rps: median(rs.map((r) => r.wrk.rps)),
      p99: median(rs.map((r) => r.wrk.p99)),
      max: Math.max(...rs.map((r) => r.wrk.max)),
    };
  });
}

function report(info, rows, results) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  const pct = (n) =>
    !Number.isFinite(n) ? "–" : n === 0 ? "0" : n < 0.01 ? n.toExponential(1) : n.toFixed(2);
  const v = info.versions;
  const out = [
    `# Restart under load — ${info.date}`,
    "",
    `\`wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s --timeout ${opts.timeout}s --latency\` ` +
      `(after ${opts.warmup} s of unrecorded warm-up) while the component is restarted ${opts.restarts} times: ` +
      `the first ${opts.delay} s into the load, each next one ${opts.gap} s after the previous finished. ` +
      `${opts.runs} run(s), systems in rotating order. Upstream: the same node:http program everywhere ` +
      `(200 "ok", keep-alive; on SIGTERM/SIGINT \`server.close()\`, then exit 0). ` +
      `node ${v.node}, ${v.cpus} × ${v.cpu}, Linux ${v.kernel}, wrk ${v.wrk}, Steward ${v.steward}` +
      `${v.pm2 ? `, pm2 ${v.pm2}` : ""}; load average ${f(info.loadavg.before[0], 2)} before / ` +
      `${f(info.loadavg.after[0], 2)} after.`,
    "",
  ];
  if (info.strippedEnv.length)
    out.push(`Removed from the environment of everything run: ${info.strippedEnv.join(", ")}.`, "");
  out.push(
    "| system | restarts done | requests | failed | failed % | connect / read / write / timeout / non-2xx | req/s | p99 ms | max ms | restart command (s) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of rows) {
    const k = r.kinds;
    const rs = r.restartSeconds;
    out.push(
      `| ${r.label} | ${r.restartsDone} / ${r.restartsWanted} | ${r.requests} | ${r.failed} | ${pct(r.failedPct)} | ` +
        `${k.connect} / ${k.read} / ${k.write} / ${k.timeout} / ${k.non2xx} | ${f(r.rps)} | ${f(r.p99, 2)} | ` +
        `${f(r.max, 0)} | ${rs.length ? `${f(median(rs), 2)} (${f(Math.min(...rs), 2)}–${f(Math.max(...rs), 2)})` : "–"} |`,
    );
  }
  const stewardRows = rows.filter((r) => r.system.startsWith("steward") && r.runs > 0);
  if (stewardRows.length) {
    out.push(
      "",
      `Target for Steward: 0 failed requests — ` +
        stewardRows
          .map(
            (r) =>
              `${r.system}: ${r.failed === 0 && r.errors.length === 0 ? "met" : `NOT met (${r.failed} failed)`}`,
          )
          .join("; ") +
        ".",
    );
  }
  if (opts.runs > 1) {
    out.push(
      "",
      "Failed per run: " + rows.map((r) => `${r.system} ${r.failedPerRun.join(", ")}`).join("; ") + ".",
    );
  }
  out.push(
    "",
    "## What runs",
    "",
    "- **Steward** (`steward`): a generated topology, component `app` with `replicas: 2`, " +
      '`env: { PORT: "${port}" }`, `ready: { http: /, within: 10s }`, `stop: { grace: 5s }`, ' +
      "`drain: { timeout: 5s }`, and a route `{ listen: 127.0.0.1:<free port>, path: /, to: app }`; wrk goes " +
      "through Steward's edge (in the daemon). `steward restart app` on 2 replicas is a rolling restart: one " +
      "replica at a time is drained through the edge, stopped, started, and back in routing once ready.",
    "- **Steward, hold** (`steward-hold`): the same with `replicas: 1` and `hold: 10s` on the route: the restart " +
      "is stop + start, and the edge holds new requests while no replica is routable.",
    "- **PM2 cluster** (`pm2-cluster`): `node_modules/.bin/pm2` with its own `PM2_HOME`, the upstream with a fixed " +
      "`PORT`, `exec_mode: cluster`, `instances: 2`, `kill_timeout: 5000`; wrk directly against the port (node's " +
      "cluster master distributes connections); `pm2 reload app` (one worker at a time: start a new one, wait " +
      "for it to listen, stop the old one).",
    "- **PM2 fork** (`pm2-fork`): fork mode cannot share a port between instances, so one instance on the fixed " +
      "port, and `pm2 restart app` (stop, then start). Same `kill_timeout`.",
    "",
    "PM2 stops with SIGINT (its default), Steward with SIGTERM; the upstream does the same on both. " +
      "**failed** = wrk's socket errors (connect + read + write + timeout) + its non-2xx/3xx responses; " +
      "**failed %** = failed / (wrk's responses + socket errors). A socket error is a failed attempt, not a " +
      "lost client: while nothing listens on the port wrk reconnects as fast as it can, and every refused " +
      "attempt counts (wrk reports most of them as write errors: the refusal of its non-blocking connect " +
      "surfaces at the first write). **requests** is wrk's count of responses. " +
      "**restarts done**: restart commands that exited 0, finished while the load was running, and replaced " +
      "every upstream process (the tagged upstreams' pids, read from /proc before and after each restart, " +
      "independently of what the system reports). **restart command**: the wall time of the CLI command " +
      "(median, range). p99 and max are wrk's latency over the whole run.",
  );
  const notes = [];
  for (const r of results) {
    const tag = `${r.system}${opts.runs > 1 ? ` run ${r.run}` : ""}`;
    if (r.error) notes.push(`${tag}: ERROR: ${r.error}`);
    for (const x of r.restarts ?? [])
      if (!x.ok)
        notes.push(
          `${tag}: restart ${x.i} not counted: exit ${x.code}, ${x.replaced} replaced, ` +
            `${x.duringLoad ? "during the load" : "after the load ended"}; output: ${x.output.replace(/\n/g, " / ")}`,
        );
    if (r.leftAfterTeardown)
      notes.push(`${tag}: ${r.leftAfterTeardown} upstream(s) left after teardown (killed)`);
    if (r.daemonLogProblems?.length)
      notes.push(
        `${tag}: daemon log warnings/errors:\n${r.daemonLogProblems.map((l) => `    ${l}`).join("\n")}`,
      );
  }
  if (info.leftovers) notes.push(info.leftovers);
  if (notes.length) out.push("", "## Notes", "", ...notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
const date = new Date().toISOString().slice(0, 10);
const loadBefore = os.loadavg();
ensureWrk();
const missing = stewardMissing();
if (missing && opts.only.some((s) => s.startsWith("steward"))) {
  console.error(missing);
  process.exit(1);
}
log(
  `restart under load: ${opts.restarts} restarts during ${opts.duration} s of wrk -t${opts.threads} ` +
    `-c${opts.connections}; ${opts.runs} run(s); systems: ${opts.only.join(", ")}; temp dir ${tmpRoot}`,
);
const results = [];
for (let run = 1; run <= opts.runs && !cleanups.interrupted; run++) {
  const order = opts.only.map((_, i) => opts.only[(i + run - 1) % opts.only.length]);
  for (const system of order) {
    if (cleanups.interrupted) break;
    log(`\n${system}${opts.runs > 1 ? ` (run ${run})` : ""}:`);
    results.push(await measure(system, run));
    await cleanups.run();
  }
}
// Interrupted: no report; the signal handler cleans up and exits 130.
if (cleanups.interrupted) await new Promise(() => {});
const swept = await sweepUntilQuiet(markers);
const wrkVersion = /wrk (\S+)/.exec(spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout ?? "")?.[1] ?? "?";
const info = {
  date,
  versions: { ...versions(), steward: stewardVersion(), wrk: wrkVersion },
  strippedEnv: stripped,
  loadavg: { before: loadBefore, after: os.loadavg() },
  options: opts,
  leftovers: swept.length
    ? `${swept.length} process(es) of the benchmark were still running at the end and were killed`
    : undefined,
};
delete info.versions.supervisord; // not part of this benchmark
const rows = summarize(results);
const md = report(info, rows, results);
const suffix = opts.only.length === SYSTEMS.length ? "" : `-${opts.only.join("-")}`;
const baseName = saveResults(`restart-under-load-${date}${suffix}`, md, { ...info, rows, results });
log(`\n${md}`);
log(`saved ${path.relative(process.cwd(), baseName)}.md and .json`);
if (opts.keep) log(`kept ${tmpRoot}`);
else fs.rmSync(tmpRoot, { recursive: true, force: true });
const bad = results.some((r) => r.error) || rows.some((r) => r.failed > 0 && r.system.startsWith("steward"));
process.exit(bad ? 1 : 0);
