#!/usr/bin/env node
// Edge benchmark: HTTP/1.1 keep-alive throughput and latency through Steward's edge, compared with
// the upstream reached directly, HAProxy, and a naive node:http proxy (see bench/README.md).
//
//   node bench/edge.mjs [--duration 10] [--warmup 3] [--rounds 3] [--connections 50] [--threads 2]
//                       [--upstreams 2] [--only direct,haproxy,steward,naive] [--edge-flags "..."] [--keep]
//
// Every system is measured with the same wrk command against the same upstream processes (a node:http
// "hello world"), in rounds whose order rotates; the table shows the median of the rounds. The edge
// runs from dist/ (run `npm run build` first) in its own process, started by this script in
// `--serve-edge` mode. Results go to bench/results/edge-<date>.{md,json}.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ensurePackages, freePort } from "./lib/common.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const SELF = fileURLToPath(import.meta.url);
const SYSTEMS = ["direct", "haproxy", "steward", "steward-log", "naive", "steward-x2"];
/**
 * Measured unless --only says otherwise; `steward-log` is the edge with its access log on (as in the
 * daemon by default); `steward-x2` (two edge processes, node cluster) is an experiment.
 */
const DEFAULT_SYSTEMS = ["direct", "haproxy", "steward", "steward-log", "naive"];
const TARGET = { throughput: 0.6, p99: 2 };

// ---------------------------------------------------------------------------------------------
// Server modes (run as child processes of the benchmark).
const HELLO = Buffer.from("hello world\n");

function serveUpstream(port) {
  const server = http.createServer((req, res) => {
    if (req.method === "GET" || req.method === "HEAD") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": HELLO.length });
      res.end(HELLO);
      return;
    }
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": HELLO.length });
      res.end(HELLO);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1");
}

async function serveEdge(port, upstreams, accessLogFile) {
  const entry = path.join(root, "dist", "edge", "index.js");
  const { Edge, RoutingTable } = await import(pathToFileURL(entry).href);
  let accessLog = null;
  if (accessLogFile) {
    const { AccessLog } = await import(pathToFileURL(path.join(root, "dist", "edge", "access-log.js")).href);
    accessLog = await AccessLog.open(accessLogFile, { rotate: { maxBytes: 10 * 1024 * 1024, keep: 5 } });
  }
  const components = [{ name: "web", offlineCode: "WEB_OFFLINE" }];
  const table = new RoutingTable(components);
  upstreams.forEach((p, i) => table.setReplica("web", i, { port: p, ready: true }));
  const route = {
    listen: port,
    address: "127.0.0.1",
    path: "/",
    to: "web",
    balance: "round-robin",
    maxBodyBytes: 10 * 1024 * 1024,
    timeoutMs: 60_000,
  };
  const edge = await Edge.start([route], components, table, { accessLog });
  const stop = async () => {
    await edge.close(1000);
    await accessLog?.close();
    table.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// The proxy most people write first: http.request per request, a keep-alive agent, pipe both ways.
function serveNaive(port, upstreams) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let next = 0;
  http
    .createServer((req, res) => {
      const upstream = upstreams[next++ % upstreams.length];
      const p = http.request(
        { host: "127.0.0.1", port: upstream, method: req.method, path: req.url, headers: req.headers, agent },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      p.on("error", () => {
        res.statusCode = 502;
        res.end();
      });
      req.pipe(p);
    })
    .listen(port, "127.0.0.1");
}

// ---------------------------------------------------------------------------------------------
// The benchmark.
function usage(code) {
  console.log(`usage: node bench/edge.mjs [options]
  --duration S     measured seconds per wrk run (default 10)
  --warmup S       unrecorded wrk seconds before each measured run (default 3)
  --rounds N       rounds over all systems, order rotating (default 3); the table shows medians
  --connections N  wrk connections (default 50)
  --threads N      wrk threads (default 2)
  --upstreams N    upstream processes behind the proxies (default 2; "direct" uses the first)
  --only LIST      comma-separated subset of: ${SYSTEMS.join(", ")}
                   (default ${DEFAULT_SYSTEMS.join(",")}; steward-x2 runs the edge in two processes with node's cluster)
  --haproxy-threads N  HAProxy's nbthread (default: HAProxy's own default, one per CPU)
  --edge-flags "F" node flags for the edge process (e.g. "--max-semi-space-size=1", the daemon's)
  --keep           keep the temporary directory (HAProxy config, logs)`);
  process.exit(code);
}

function parseArgs() {
  const o = {
    duration: 10,
    warmup: 3,
    rounds: 3,
    connections: 50,
    threads: 2,
    upstreams: 2,
    only: DEFAULT_SYSTEMS,
    haproxyThreads: 0,
    edgeFlags: [],
    keep: false,
  };
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    const val = () => {
      const v = process.argv[++i];
      if (v === undefined) usage(2);
      return v;
    };
    if (a === "--duration") o.duration = Number(val());
    else if (a === "--warmup") o.warmup = Number(val());
    else if (a === "--rounds") o.rounds = Number(val());
    else if (a === "--connections") o.connections = Number(val());
    else if (a === "--threads") o.threads = Number(val());
    else if (a === "--upstreams") o.upstreams = Number(val());
    else if (a === "--only") o.only = val().split(",").filter(Boolean);
    else if (a === "--haproxy-threads") o.haproxyThreads = Number(val());
    else if (a === "--edge-flags") o.edgeFlags = val().split(/\s+/).filter(Boolean);
    else if (a === "--keep") o.keep = true;
    else if (a === "--help" || a === "-h") usage(0);
    else {
      console.error(`unknown argument ${a}`);
      usage(2);
    }
  }
  for (const s of o.only) {
    if (!SYSTEMS.includes(s)) {
      console.error(`--only: unknown system ${s}`);
      usage(2);
    }
  }
  const positive = [o.duration, o.rounds, o.connections, o.threads, o.upstreams];
  if (!positive.every((n) => Number.isInteger(n) && n >= 1) || !(o.warmup >= 0)) usage(2);
  return o;
}

async function waitHello(port, what, child, timeoutMs = 10_000) {
  const started = Date.now();
  for (;;) {
    if (child && child.exitCode !== null)
      throw new Error(`${what} exited with ${child.exitCode} before answering`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      const text = await res.text();
      if (res.status === 200 && text === HELLO.toString()) return;
      throw new Error(`answered ${res.status} ${text.slice(0, 80)}`);
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw new Error(`${what} on port ${port}: ${err.message}`);
      await sleep(50);
    }
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3 is at index 0). */
function statFields(pid) {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** CPU time (user, system) of a process and its threads — and of its live children — in clock ticks. */
function cpuTicks(pid) {
  const pids = [pid];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(entry)[1]) === pid) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  let user = 0;
  let system = 0;
  for (const p of pids) {
    try {
      const f = statFields(p);
      user += Number(f[11]);
      system += Number(f[12]);
    } catch {
      // gone
    }
  }
  return { user, system };
}
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

function toMs(value) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? toMs(m[1]) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

function runWrk(opts, port, seconds) {
  return new Promise((resolve, reject) => {
    const args = [
      "-t",
      String(opts.threads),
      "-c",
      String(opts.connections),
      "-d",
      `${seconds}s`,
      "--latency",
    ];
    const child = spawn("wrk", [...args, `http://127.0.0.1:${port}/`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function haproxyConfig(port, upstreams, threads) {
  return [
    "global",
    "  maxconn 4096",
    ...(threads > 0 ? [`  nbthread ${threads}`] : []),
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  option http-keep-alive",
    "frontend edge",
    `  bind 127.0.0.1:${port}`,
    "  default_backend web",
    "backend web",
    "  balance roundrobin",
    ...upstreams.map((p, i) => `  server u${i} 127.0.0.1:${p}`),
    "",
  ].join("\n");
}

function versionOf(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  const m = re.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  return m ? m[1] : "?";
}

async function main() {
  const opts = parseArgs();
  const only = new Set(opts.only);
  const needed = [["wrk", "wrk"]];
  if (only.has("haproxy")) needed.push(["haproxy", "haproxy"]);
  ensurePackages(needed);
  if (only.has("steward") && !fs.existsSync(path.join(root, "dist", "edge", "index.js"))) {
    throw new Error("Steward's edge is not built (no dist/edge/index.js): run `npm run build` first");
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "steward-bench-edge-"));
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS; // ~0.1 s of CPU per node boot; not what is measured
  const children = [];
  const cleanup = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    }
    await sleep(300);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  };
  const start = (label, cmd, args) => {
    const log = fs.openSync(path.join(dir, `${label}.log`), "w");
    const child = spawn(cmd, args, { env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    child.label = label;
    children.push(child);
    return child;
  };
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const upstreamPorts = [];
    for (let i = 0; i < opts.upstreams; i++) upstreamPorts.push(await freePort());
    const systems = [];
    const upstreamChildren = upstreamPorts.map((p, i) =>
      start(`upstream-${i}`, process.execPath, [SELF, "--serve-upstream", String(p)]),
    );
    for (let i = 0; i < upstreamPorts.length; i++)
      await waitHello(upstreamPorts[i], `upstream ${i}`, upstreamChildren[i]);

    if (only.has("direct"))
      systems.push({ name: "direct", port: upstreamPorts[0], pid: upstreamChildren[0].pid });
    if (only.has("haproxy")) {
      const port = await freePort();
      const cfg = path.join(dir, "haproxy.cfg");
      fs.writeFileSync(cfg, haproxyConfig(port, upstreamPorts, opts.haproxyThreads));
      const child = start("haproxy", "haproxy", ["-db", "-f", cfg]);
      await waitHello(port, "haproxy", child);
      systems.push({ name: "haproxy", port, pid: child.pid });
    }
    if (only.has("steward")) {
      const port = await freePort();
      const child = start("steward-edge", process.execPath, [
        ...opts.edgeFlags,
        SELF,
        "--serve-edge",
        String(port),
        ...upstreamPorts.map(String),
      ]);
      await waitHello(port, "steward edge", child);
      systems.push({ name: "steward", port, pid: child.pid });
    }
    if (only.has("steward-log")) {
      const port = await freePort();
      const child = start("steward-edge-log", process.execPath, [
        ...opts.edgeFlags,
        SELF,
        "--serve-edge-log",
        String(port),
        path.join(dir, "access.log"),
        ...upstreamPorts.map(String),
      ]);
      await waitHello(port, "steward edge with access log", child);
      systems.push({ name: "steward-log", port, pid: child.pid });
    }
    if (only.has("steward-x2")) {
      const port = await freePort();
      const child = start("steward-edge-x2", process.execPath, [
        ...opts.edgeFlags,
        SELF,
        "--serve-edge-cluster",
        String(port),
        ...upstreamPorts.map(String),
      ]);
      await waitHello(port, "steward edge ×2", child);
      systems.push({ name: "steward-x2", port, pid: child.pid, cluster: true });
    }
    if (only.has("naive")) {
      const port = await freePort();
      const child = start("naive", process.execPath, [
        SELF,
        "--serve-naive",
        String(port),
        ...upstreamPorts.map(String),
      ]);
      await waitHello(port, "naive proxy", child);
      systems.push({ name: "naive", port, pid: child.pid });
    }

    const load = [os.loadavg()[0]];
    const samples = Object.fromEntries(systems.map((s) => [s.name, []]));
    console.log(
      `edge benchmark: wrk -t${opts.threads} -c${opts.connections}, ${opts.warmup} s warm-up + ${opts.duration} s, ` +
        `${opts.rounds} rounds, ${opts.upstreams} upstream process(es), ${os.cpus().length} CPUs`,
    );
    for (let round = 0; round < opts.rounds; round++) {
      const order = systems.map((_, i) => systems[(i + round) % systems.length]);
      for (const s of order) {
        if (opts.warmup > 0) await runWrk(opts, s.port, opts.warmup);
        const before = cpuTicks(s.pid);
        const out = await runWrk(opts, s.port, opts.duration);
        const after = cpuTicks(s.pid);
        const r = parseWrk(out);
        const cpu = {
          userUsPerReq: ((after.user - before.user) * TICK_US) / Math.max(1, r.requests),
          systemUsPerReq: ((after.system - before.system) * TICK_US) / Math.max(1, r.requests),
        };
        const sample = { round, ...r, ...cpu, load1: os.loadavg()[0] };
        samples[s.name].push(sample);
        console.log(
          `  round ${round + 1} ${s.name.padEnd(8)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  ` +
            `p99 ${r.p99.toFixed(2)} ms  cpu ${(cpu.userUsPerReq + cpu.systemUsPerReq).toFixed(1)} µs/req` +
            (r.non2xx || r.socketErrors ? `  errors ${r.non2xx + r.socketErrors}` : ""),
        );
      }
    }
    load.push(os.loadavg()[0]);

    const rows = systems.map((s) => {
      const xs = samples[s.name];
      return {
        system: s.name,
        rps: median(xs.map((x) => x.rps)),
        p50: median(xs.map((x) => x.p50)),
        p99: median(xs.map((x) => x.p99)),
        userUsPerReq: median(xs.map((x) => x.userUsPerReq)),
        systemUsPerReq: median(xs.map((x) => x.systemUsPerReq)),
        errors: xs.reduce((n, x) => n + x.non2xx + x.socketErrors, 0),
      };
    });
    const row = (name) => rows.find((r) => r.system === name);
    const verdict = {};
    if (row("steward") && row("haproxy")) {
      const st = row("steward");
      const hp = row("haproxy");
      verdict.throughputRatio = st.rps / hp.rps;
      verdict.p99Ratio = st.p99 / hp.p99;
      // Per-round ratios: both systems ran in the same round, so these cancel slow drifts of the machine.
      const perRound = samples.steward.map((x, i) => x.rps / samples.haproxy[i].rps);
      verdict.throughputRatioPerRound = perRound;
      verdict.throughputMet = verdict.throughputRatio >= TARGET.throughput;
      verdict.p99Met = verdict.p99Ratio <= TARGET.p99;
    }
    if (row("steward") && row("steward-log")) {
      // The access log's cost: the same edge with and without it, round by round.
      verdict.accessLogThroughputRatio = row("steward-log").rps / row("steward").rps;
      verdict.accessLogThroughputRatioPerRound = samples["steward-log"].map(
        (x, i) => x.rps / samples.steward[i].rps,
      );
    }

    const info = {
      date: new Date().toISOString(),
      node: process.version,
      haproxy: versionOf("haproxy", ["-v"], /version (\S+)/),
      wrk: versionOf("wrk", ["-v"], /wrk (\S+)/),
      kernel: os.release(),
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? "?",
      load1: load,
      options: { ...opts, only: [...only] },
    };
    const md = report(info, rows, verdict);
    console.log(`\n${md}`);
    const day = new Date().toISOString().slice(0, 10);
    const isDefault =
      opts.only.length === DEFAULT_SYSTEMS.length && DEFAULT_SYSTEMS.every((x) => only.has(x));
    const suffix = isDefault ? "" : `-${opts.only.join("-")}`;
    fs.mkdirSync(path.join(benchDir, "results"), { recursive: true });
    const base = path.join(benchDir, "results", `edge-${day}${suffix}`);
    fs.writeFileSync(`${base}.md`, md);
    fs.writeFileSync(`${base}.json`, `${JSON.stringify({ info, rows, verdict, samples }, null, 2)}\n`);
    console.log(`saved ${path.relative(root, base)}.md and .json`);
    const failed = rows.some((r) => r.errors > 0);
    await cleanup();
    process.exit(failed ? 1 : 0);
  } catch (err) {
    console.error(`edge benchmark failed: ${err.message}`);
    await cleanup();
    process.exit(1);
  }
}

function report(info, rows, verdict) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  const lines = [
    `# Edge benchmark, ${info.date.slice(0, 10)}`,
    "",
    `wrk -t${info.options.threads} -c${info.options.connections} -d${info.options.duration}s (after ${info.options.warmup} s of warm-up), ` +
      `median of ${info.options.rounds} rounds; ${info.options.upstreams} node:http upstream process(es) answering 12 bytes; ` +
      `${info.cpus} × ${info.cpu}; node ${info.node}, HAProxy ${info.haproxy}` +
      `${info.options.haproxyThreads ? ` (nbthread ${info.options.haproxyThreads})` : ""}, wrk ${info.wrk}; ` +
      `load average ${f(info.load1[0], 2)} before, ${f(info.load1[1], 2)} after` +
      `${info.options.edgeFlags.length ? `; edge node flags ${info.options.edgeFlags.join(" ")}` : ""}.`,
    "",
    "| system | req/s | p50 ms | p99 ms | proxy CPU µs/req (user + system) | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.system} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.userUsPerReq + r.systemUsPerReq, 1)} (${f(r.userUsPerReq, 1)} + ${f(r.systemUsPerReq, 1)}) | ${r.errors} |`,
    ),
    "",
    "`direct` is wrk against the first upstream (its CPU column is the upstream's own); the other rows are",
    "proxies in front of all upstreams, and their CPU column is the proxy process's (all threads, and its",
    "child processes for `steward-x2`).",
  ];
  if (verdict.throughputRatio !== undefined) {
    lines.push(
      "",
      `Steward / HAProxy: throughput ${f(verdict.throughputRatio, 2)} (target ≥ ${TARGET.throughput}: ${verdict.throughputMet ? "met" : "NOT met"}; ` +
        `per round ${verdict.throughputRatioPerRound.map((x) => f(x, 2)).join(", ")}), ` +
        `p99 ${f(verdict.p99Ratio, 2)} (target ≤ ${TARGET.p99}: ${verdict.p99Met ? "met" : "NOT met"}).`,
    );
  }
  if (verdict.accessLogThroughputRatio !== undefined) {
    lines.push(
      "",
      `Access log on / off: throughput ${f(verdict.accessLogThroughputRatio, 3)} ` +
        `(per round ${verdict.accessLogThroughputRatioPerRound.map((x) => f(x, 3)).join(", ")}).`,
    );
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
/** The edge in `n` processes sharing the port (node's cluster: the primary hands out connections). */
async function serveEdgeCluster(n, port, upstreams) {
  const cluster = (await import("node:cluster")).default;
  if (cluster.isPrimary) {
    for (let i = 0; i < n; i++) cluster.fork();
    const stop = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
      process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    return;
  }
  await serveEdge(port, upstreams);
}

const mode = process.argv[2];
if (mode === "--serve-edge-cluster") {
  await serveEdgeCluster(2, Number(process.argv[3]), process.argv.slice(4).map(Number));
} else if (mode === "--serve-upstream") {
  serveUpstream(Number(process.argv[3]));
} else if (mode === "--serve-edge-log") {
  await serveEdge(Number(process.argv[3]), process.argv.slice(5).map(Number), process.argv[4]);
} else if (mode === "--serve-edge") {
  await serveEdge(Number(process.argv[3]), process.argv.slice(4).map(Number));
} else if (mode === "--serve-naive") {
  serveNaive(Number(process.argv[3]), process.argv.slice(4).map(Number));
} else {
  await main();
}
