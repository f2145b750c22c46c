#!/usr/bin/env node
// Cluster benchmark (issue 11): 3 nodes on this machine (homes n1..n3, advertised 127.0.0.1..3),
// each reaching PostgreSQL (127.0.0.1:5432, trust auth) through a TCP relay of its own that counts
// the round trips it carries — see bench/README.md.
//
//   node bench/cluster.mjs [--setting default|fast|both] [--many 30] [--keep]
//
// Measured per setting (default: heartbeat 1 s, 2 misses, lease 10 s; fast: 200 ms, 2, 2 s):
// - a lost node (SIGKILL of its daemon; its replicas keep running) and a relay cut: time until
//   n1's edge has taken that node's replicas out of routing, and until n1's view says suspect/down;
// - primary failover: SIGKILL of the primary's daemon → another node holds a live lease;
// - `start` of 3 × N replicas: each node's own `steward start` at once, and `start --cluster` on n1;
// - `steward cluster status` (CLI end to end) and `GET /v1/cluster` latency;
// - PostgreSQL round trips per heartbeat (Query and Sync messages counted at the relays while idle).
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  Cleanups,
  NODE,
  SLEEP,
  freePort,
  median,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
} from "./lib/common.mjs";

const SETTINGS = {
  default: { heartbeat: "1s", heartbeatMs: 1000, misses: 2, lease: "10s", leaseMs: 10_000 },
  fast: { heartbeat: "200ms", heartbeatMs: 200, misses: 2, lease: "2s", leaseMs: 2000 },
};
const opts = { setting: "both", many: 30, keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--setting") opts.setting = process.argv[++i];
  else if (a === "--many") opts.many = Number(process.argv[++i]);
  else if (a === "--keep") opts.keep = true;
  else {
    console.log("usage: node bench/cluster.mjs [--setting default|fast|both] [--many 30] [--keep]");
    process.exit(2);
  }
}
const missing = stewardMissing();
if (missing) {
  console.log(missing);
  process.exit(0);
}
const ECHO = path.join(root, "test", "fixtures", "node-echo.js");
const cleanups = new Cleanups().onSignals();

// ---------------------------------------------------------------------------------------------
/** A relay to PostgreSQL that counts round trips: simple Query ('Q') and Sync ('S') messages from the client. */
class CountingRelay {
  roundTrips = 0;
  /** Round trips by the start of their statement. */
  kinds = new Map();
  #cut = false;
  #sockets = new Set();
  constructor(host) {
    this.host = host;
    this.server = net.createServer((client) => {
      if (this.#cut) return void client.destroy();
      const upstream = net.connect(5432, "127.0.0.1");
      this.#sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      let buf = Buffer.alloc(0);
      let started = false;
      let statement = "";
      client.on("data", (chunk) => {
        upstream.write(chunk);
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          if (!started) {
            if (buf.length < 8) break;
            const len = buf.readInt32BE(0);
            if (buf.length < len) break;
            const code = buf.readInt32BE(4);
            buf = buf.subarray(len);
            if (code !== 80877103) started = true; // SSLRequest is followed by the startup message
            continue;
          }
          if (buf.length < 5) break;
          const len = buf.readInt32BE(1);
          if (buf.length < 1 + len) break;
          const type = String.fromCharCode(buf[0]);
          if (type === "Q" || type === "P") {
            const text = buf.subarray(type === "Q" ? 5 : buf.indexOf(0, 5) + 1, 1 + len).toString("utf8");
            statement = text.replace(/\0.*$/s, "").replace(/\s+/g, " ").trim().slice(0, 48);
          }
          if (type === "Q" || type === "S") {
            this.roundTrips += 1;
            this.kinds.set(statement, (this.kinds.get(statement) ?? 0) + 1);
          }
          buf = buf.subarray(1 + len);
        }
      });
      upstream.pipe(client);
    });
  }
  async start() {
    await new Promise((resolve) => this.server.listen(0, this.host, resolve));
    this.port = this.server.address().port;
    return this;
  }
  cut() {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
  restore() {
    this.#cut = false;
  }
  close() {
    this.cut();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

function steward(dir, ...args) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      NODE,
      [stewardCli(), ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
}

function api(dir, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: path.join(dir, ".steward", "steward.sock"), path: p, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`${p}: ${res.statusCode} ${body}`)),
        );
      })
      .on("error", reject)
      .on("timeout", function () {
        this.destroy(new Error("timeout"));
      });
  });
}

async function waitFor(what, fn, timeoutMs, everyMs = 10) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const pidOf = (dir) => Number(fs.readFileSync(path.join(dir, ".steward", "daemon.pid"), "utf8").trim());
const round = (ms) => Math.round(ms);

// ---------------------------------------------------------------------------------------------
async function runSetting(name, s) {
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres" });
  await admin.connect();
  const db = `bench_cluster_${name}_${process.pid}`;
  await admin.query(`CREATE DATABASE ${db}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `stw-bench-cluster-${name}-`));
  if (!opts.keep) cleanups.push(() => fs.rmSync(base, { recursive: true, force: true }));
  const routePort = await freePort();
  const nodes = [];
  for (let i = 1; i <= 3; i++) {
    const advertise = `127.0.0.${i}`;
    const relay = await new CountingRelay(advertise).start();
    cleanups.push(() => relay.close());
    const dir = path.join(base, `n${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "steward.yaml"),
      `name: bench
store: postgres://postgres@${advertise}:${relay.port}/${db}
cluster:
  node: n${i}
  advertise: ${advertise}
  heartbeat: ${s.heartbeat}
  allowed_misses: ${s.misses}
  lease: ${s.lease}
components:
  web:
    command: ${JSON.stringify(`${NODE} ${ECHO}`)}
    env: { PORT: "\${port}", REPLICA: "\${replica}" }
    replicas: 2
  many:
    command: ${JSON.stringify(`${SLEEP} infinity`)}
    replicas: ${opts.many}
    stop: { grace: 5s }
routes:
  - { listen: "${advertise}:${routePort}", to: web }
`,
    );
    nodes.push({ name: `n${i}`, dir, relay, advertise });
    cleanups.push(() => steward(dir, "down"));
  }
  const up = await Promise.all(nodes.map((n) => steward(n.dir, "up")));
  for (const [i, u] of up.entries()) if (u.code !== 0) throw new Error(`n${i + 1}: up failed: ${u.stderr}`);
  const n1 = nodes[0];
  const remoteIn = async (node) =>
    ((await api(n1.dir, "/v1/status")).routing?.find((c) => c.component === "web")?.remote ?? []).filter(
      (r) => r.node === node && r.state === "in",
    ).length;
  const stateIn = async (viewer, node) =>
    (await api(viewer.dir, "/v1/cluster")).nodes.find((x) => x.name === node)?.state;
  await waitFor(
    "n1 routing to n2's and n3's replicas",
    async () => (await remoteIn("n2")) === 2 && (await remoteIn("n3")) === 2,
    60_000,
    50,
  );
  const out = { setting: name, ...s };

  // Round trips per heartbeat, idle (no operation, no request).
  const window = Math.max(5000, s.heartbeatMs * 10);
  const beats0 = await Promise.all(nodes.map(async (n) => (await api(n.dir, "/v1/status")).cluster));
  const rt0 = nodes.map((n) => n.relay.roundTrips);
  const kinds0 = nodes.map((n) => new Map(n.relay.kinds));
  await sleep(window);
  const beats1 = await Promise.all(nodes.map(async (n) => (await api(n.dir, "/v1/status")).cluster));
  out.roundTrips = nodes.map((n, i) => {
    const beats = beats1[i].heartbeats.ok - beats0[i].heartbeats.ok;
    const trips = n.relay.roundTrips - rt0[i];
    return {
      node: n.name,
      primary: beats1[i].primary,
      heartbeats: beats,
      roundTrips: trips,
      perHeartbeat: +(trips / beats).toFixed(2),
      statements: Object.fromEntries(
        [...n.relay.kinds].map(([k, v]) => [k, v - (kinds0[i].get(k) ?? 0)]).filter(([, v]) => v > 0),
      ),
    };
  });

  // `cluster status` latency.
  const cli = [];
  for (let i = 0; i < 10; i++) cli.push((await steward(n1.dir, "cluster", "status", "--json")).ms);
  const apiMs = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await api(n1.dir, "/v1/cluster");
    apiMs.push(performance.now() - t0);
  }
  out.clusterStatus = { cliMedianMs: round(median(cli)), apiMedianMs: +median(apiMs).toFixed(1) };

  // A lost node: SIGKILL of n3's daemon (its replicas keep running, the edge could still reach them).
  const n3 = nodes[2];
  let t0 = performance.now();
  process.kill(pidOf(n3.dir), "SIGKILL");
  const lost = {};
  await Promise.all([
    waitFor(
      "n3 out of n1's routing",
      async () => (await remoteIn("n3")) === 0 && (lost.outOfRoutingMs = round(performance.now() - t0)),
      60_000,
    ),
    waitFor(
      "n3 suspect in n1's view",
      async () => (await stateIn(n1, "n3")) !== "up" && (lost.suspectMs = round(performance.now() - t0)),
      60_000,
    ),
  ]);
  await waitFor(
    "n3 down in n1's view",
    async () => (await stateIn(n1, "n3")) === "down" && (lost.downMs = round(performance.now() - t0)),
    60_000,
  );
  out.lostNode = lost;
  if ((await steward(n3.dir, "up")).code !== 0) throw new Error("n3: up again failed");
  await waitFor("n3's replicas back in n1's routing", async () => (await remoteIn("n3")) === 2, 60_000, 20);

  // A relay cut: n3 cannot reach the store (its daemon and replicas run on).
  t0 = performance.now();
  n3.relay.cut();
  const cut = {};
  await Promise.all([
    waitFor(
      "n3 out of n1's routing (cut)",
      async () => (await remoteIn("n3")) === 0 && (cut.outOfRoutingMs = round(performance.now() - t0)),
      60_000,
    ),
    waitFor(
      "n3 down (cut)",
      async () => (await stateIn(n1, "n3")) === "down" && (cut.downMs = round(performance.now() - t0)),
      60_000,
    ),
  ]);
  t0 = performance.now();
  n3.relay.restore();
  await waitFor(
    "n3 back in n1's routing",
    async () => (await remoteIn("n3")) === 2 && (cut.backInRoutingMs = round(performance.now() - t0)),
    60_000,
  );
  out.relayCut = cut;

  // Primary failover: SIGKILL of the primary's daemon.
  const dbc = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: db });
  await dbc.connect();
  cleanups.push(() => dbc.end());
  const readLease = async () =>
    (
      await dbc.query(
        "SELECT holder, epoch::int AS epoch, expires_at > clock_timestamp() AS live FROM steward_cluster.primary_lease",
      )
    ).rows[0];
  const before = await waitFor(
    "a primary",
    async () => {
      const l = await readLease();
      return l.live && l.holder && l;
    },
    60_000,
  );
  const victim = nodes.find((n) => n.name === before.holder);
  t0 = performance.now();
  process.kill(pidOf(victim.dir), "SIGKILL");
  const after = await waitFor(
    "another primary",
    async () => {
      const l = await readLease();
      return l.live && l.holder && l.holder !== before.holder && l;
    },
    s.leaseMs * 3 + 10_000,
    10,
  );
  out.failover = {
    from: before.holder,
    to: after.holder,
    ms: round(performance.now() - t0),
    epochBefore: before.epoch,
    epochAfter: after.epoch,
    boundMs: s.leaseMs + s.heartbeatMs,
  };
  if ((await steward(victim.dir, "up")).code !== 0) throw new Error(`${victim.name}: up again failed`);

  // `start` of 3 × N replicas: each node's own `steward start many`, at once.
  const stops = await Promise.all(nodes.map((n) => steward(n.dir, "stop", "many")));
  for (const r of stops) if (r.code !== 0) throw new Error(`stop many: ${r.stderr}`);
  t0 = performance.now();
  const starts = await Promise.all(nodes.map((n) => steward(n.dir, "start", "many")));
  const startMs = performance.now() - t0;
  for (const r of starts) if (r.code !== 0) throw new Error(`start many: ${r.stderr}`);
  out.start = {
    replicas: 3 * opts.many,
    wallMs: round(startMs),
    perNodeMs: starts.map((r) => round(r.ms)),
    how: "steward start many on each node at once",
  };

  // The same through one cluster operation, asked on n1 and driven by the primary.
  const stopsC = await steward(n1.dir, "stop", "many", "--cluster");
  if (stopsC.code !== 0) throw new Error(`stop many --cluster: ${stopsC.stderr}`);
  const startC = await steward(n1.dir, "start", "many", "--cluster");
  if (startC.code !== 0) throw new Error(`start many --cluster: ${startC.stderr}`);
  out.startCluster = {
    replicas: 3 * opts.many,
    wallMs: round(startC.ms),
    how: "steward start many --cluster on n1",
  };

  await Promise.all(nodes.map((n) => steward(n.dir, "down")));
  return out;
}

// ---------------------------------------------------------------------------------------------
const results = [];
try {
  for (const name of opts.setting === "both" ? ["default", "fast"] : [opts.setting]) {
    console.log(`setting ${name}: ${JSON.stringify(SETTINGS[name])}`);
    const r = await runSetting(name, SETTINGS[name]);
    console.log(JSON.stringify(r, null, 2));
    results.push(r);
    await cleanups.run();
  }
} finally {
  await cleanups.run();
}

const date = new Date().toISOString().slice(0, 10);
const row = (r) => {
  const rt = (primary) =>
    r.roundTrips
      .filter((x) => x.primary === primary)
      .map((x) => x.perHeartbeat)
      .join(", ");
  return `| ${r.setting} (${r.heartbeat}, ${r.misses} misses, lease ${r.lease}) | ${r.lostNode.suspectMs} / ${r.lostNode.outOfRoutingMs} / ${r.lostNode.downMs} | ${r.relayCut.outOfRoutingMs} / ${r.relayCut.downMs} / back ${r.relayCut.backInRoutingMs} | ${r.failover.ms} (bound ${r.failover.boundMs}) | ${r.start.wallMs} / ${r.startCluster.wallMs} | ${r.clusterStatus.cliMedianMs} / ${r.clusterStatus.apiMedianMs} | ${rt(true)} / ${rt(false)} |`;
};
const breakdown = results
  .map(
    (r) =>
      `- ${r.setting}: ` +
      r.roundTrips
        .map(
          (x) =>
            `${x.node}${x.primary ? " (primary)" : ""}, ${x.heartbeats} heartbeats: ` +
            Object.entries(x.statements)
              .map(([k, v]) => `${v} × \`${k}…\``)
              .join(", "),
        )
        .join("; "),
  )
  .join("\n");
const md = `# Cluster benchmark — ${date}

3 nodes on one machine (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}), PostgreSQL on 127.0.0.1:5432 through a
counting TCP relay per node; node n3 is the lost one. Times in ms, measured by polling n1's
control socket every 10 ms.

| setting | lost node (daemon SIGKILL): suspect / out of n1's routing / down | relay cut: out of routing / down | primary failover | start 3 × ${opts.many}: each node / --cluster | cluster status CLI / API | round trips per heartbeat: primary / others |
|---|---|---|---|---|---|---|
${results.map(row).join("\n")}

Side by side, the time before a lost machine's replicas stop getting requests:

| system | setting | detection |
|---|---|---|
${results.map((r) => `| Steward, edge across nodes | heartbeat ${r.heartbeat}, ${r.misses} misses | ${r.lostNode.outOfRoutingMs} ms measured (suspect after 1.5 × heartbeat) |`).join("\n")}
| the manuals' edge ping | 1 s × 2 misses | ~2 s |
| Kubernetes node controller | node-monitor-grace-period 40 s (default) | ~40 s before the node is NotReady and its endpoints are removed |

Statements per idle window, by node (the start of each statement):

${breakdown}

\`start\`: each node's own \`steward start many\` run at once, wall time until all three return; then \`steward start many --cluster\` on n1 (one cluster operation, driven by the primary), until it returns.
Round trips are PostgreSQL Query and Sync messages counted at each node's relay over an idle window,
divided by that node's successful heartbeats: they include the edge's read of the other nodes'
replicas after each heartbeat (1 per heartbeat on a node with routes).
`;
const file = saveResults(`cluster-${date}`, md, { date, results });
console.log(md);
console.log(`saved ${file}.{md,json}`);
process.exit(0);
