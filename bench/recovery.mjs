#!/usr/bin/env node
// Recovery benchmark: N programs run under a supervisor whose daemon is SIGKILLed and started
// again — Steward vs PM2 vs supervisord (see bench/README.md).
//
//   node bench/recovery.mjs [--runs 3] [--n 100] [--only steward,pm2,supervisord] [--program sleep|node]
//
// For each system: start N programs, note their pids (and start times, so a reused pid is not
// mistaken for the original), SIGKILL the daemon, start it again the way a user would, and count
// what the new daemon made of the programs — adopted with the same pid, restarted, started a second
// time, or left running unsupervised — observing /proc independently of what the system reports.
// The table (medians) is printed and saved to bench/results/recovery-<date>[-<only>][-node].{md,json}.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Cleanups,
  NODE,
  STRIPPED_ENV,
  benchEnv,
  commandRunner,
  ensureSupervisord,
  median,
  program,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
  stewardTopology,
  stewardVersion,
  versions,
} from "./lib/common.mjs";
import {
  Census,
  TAG_VAR,
  alive,
  procStartTime,
  sameProcessAlive,
  sweepUntilQuiet,
  waitGone,
} from "./lib/proc.mjs";

const SYSTEMS = ["steward", "pm2", "supervisord"];

// ---------------------------------------------------------------------------------------------
// Arguments.
function usage(code) {
  console.log(`usage: node bench/recovery.mjs [--runs N] [--n N] [--only ${SYSTEMS.join("|")}[,...]] [--program sleep|node]
  --runs N       measured runs per system after one warm-up (median reported; default 3)
  --n N          programs (default 100)
  --only LIST    comma-separated subset of: ${SYSTEMS.join(", ")}
  --program P    sleep (default): /bin/sleep infinity; node: bench/fixtures/sleeper.mjs
  --timeout S    how long a restarted daemon gets to report every program running (default 20)
  --keep         keep the temporary directory (topologies, configs, logs)
  --keep-env     do not remove ${STRIPPED_ENV.join(", ")} from the environment of what the benchmark runs`);
  process.exit(code);
}
const opts = {
  runs: 3,
  n: 100,
  only: SYSTEMS,
  program: "sleep",
  timeout: 20,
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
  if (a === "--runs") opts.runs = Number(val());
  else if (a === "--n") opts.n = Number(val());
  else if (a === "--only") opts.only = val().split(",").filter(Boolean);
  else if (a === "--program") opts.program = val();
  else if (a === "--timeout") opts.timeout = Number(val());
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
if (!(opts.runs >= 1) || !(opts.n >= 1) || !(opts.timeout > 0) || !["node", "sleep"].includes(opts.program))
  usage(2);
const N = opts.n;
const LIMIT_MS = opts.timeout * 1000;
const PROGRAM = program(opts.program);
const { env: baseEnv, stripped } = benchEnv(opts.keepEnv);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "steward-recovery-"));
const log = (...a) => console.log(...a);
const runCommand = commandRunner(tmpRoot, baseEnv);
// Whatever this benchmark started holds one of these in its command line or environment: the
// daemons and CLIs name files in tmpRoot (PM2 through PM2_HOME), the programs carry a tag ending in
// our pid. After an interruption (and at the end, to be sure) every such process is SIGKILLed.
const markers = [tmpRoot, ...SYSTEMS.map((s) => `${TAG_VAR}=${s}-recovery-${process.pid}\0`)];
const cleanups = new Cleanups().onSignals(async () => {
  const swept = await sweepUntilQuiet(markers);
  if (swept.length) console.error(`killed ${swept.length} process(es) still running: ${swept.join(" ")}`);
  if (!opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
});
const since = (t0) => (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------------------------
// Results: samples[key][metric] = number[] (one per measured run); failures are listed per key.
const samples = {};
const failures = {};
const errors = {};
const notes = {};
const observations = {}; // key → the daemon states the status poll saw, one string per run
const rows = []; // [key, label] in table order
function addRow(key, label) {
  if (!rows.some(([k]) => k === key)) rows.push([key, label]);
}
function record(key, metrics) {
  const k = (samples[key] ??= {});
  for (const [m, v] of Object.entries(metrics)) if (v !== undefined) (k[m] ??= []).push(v);
}
function fail(key, run, message, extra = {}) {
  (failures[key] ??= []).push({ run, message, ...extra });
  console.error(`  FAILED (${key}, run ${run}): ${message}`);
}

/**
 * What a restarted daemon made of the original programs. `listed`: [{ key, pid, running }] as the
 * daemon reports them; `original`: Map key → { pid, startTime }; `census`: our tagged programs.
 */
function assess(listed, original, census) {
  const live = new Set(census.livePids());
  const listedPids = new Set(listed.filter((l) => l.pid).map((l) => l.pid));
  let originalsAlive = 0;
  for (const o of original.values()) if (sameProcessAlive(o.pid, o.startTime)) originalsAlive++;
  let adopted = 0;
  let newCopies = 0;
  for (const l of listed) {
    if (!l.pid) continue;
    const o = original.get(l.key);
    if (o && o.pid === l.pid && sameProcessAlive(o.pid, o.startTime)) {
      if (l.running) adopted++;
    } else if (alive(l.pid)) newCopies++;
  }
  const unsupervised = [...live].filter((pid) => !listedPids.has(pid)).length;
  return { alive: live.size, originalsAlive, adopted, newCopies, unsupervised };
}

// ---------------------------------------------------------------------------------------------
// Steward.
/** GET <path> on the daemon's Unix socket; rejects when nothing answers. */
function daemonGet(socketPath, urlPath, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: urlPath, method: "GET", agent: false, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          if (res.statusCode !== 200)
            return reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
const replicasOf = (doc) =>
  (doc?.components ?? []).flatMap((c) => (c.replicas ?? []).map((r) => ({ ...r, c: c.name })));
/** A short description of a status document, for a failure report. */
function summarize(doc, original) {
  if (!doc) return "no status answered";
  const reps = replicasOf(doc);
  const states = {};
  for (const r of reps) states[r.state] = (states[r.state] ?? 0) + 1;
  const same = reps.filter((r) => r.pid && original.get(`${r.c}[${r.index}]`)?.pid === r.pid).length;
  return (
    `daemon state ${JSON.stringify(doc.daemon?.state)} (pid ${doc.daemon?.pid}, instance ${doc.daemon?.instance}, ` +
    `${doc.daemon?.bootKind} boot); ${reps.length} replicas: ` +
    `${Object.entries(states)
      .map(([s, n]) => `${n} ${s}`)
      .join(", ")}; ${same} with their original pid`
  );
}

/**
 * Polls GET /v1/status every 5 ms from `t0` until the daemon is `active` and every replica is
 * `ready` with its original pid, or the limit. Returns the times (s since t0) and the last answer.
 */
async function pollRecovered(socket, original, t0) {
  let firstAnswer;
  let active;
  let done;
  let last;
  let lastError;
  const states = [];
  while (performance.now() - t0 < LIMIT_MS) {
    try {
      const doc = await daemonGet(socket, "/v1/status");
      firstAnswer ??= since(t0);
      last = doc;
      const st = doc.daemon?.state;
      if (states.at(-1) !== st) states.push(st);
      if (st === "active") {
        active ??= since(t0);
        const reps = replicasOf(doc);
        if (
          reps.length === N &&
          reps.every((r) => r.state === "ready" && r.pid === original.get(`${r.c}[${r.index}]`)?.pid)
        ) {
          done = since(t0);
          break;
        }
      }
    } catch (err) {
      lastError = err.message;
    }
    await sleep(5);
  }
  return { firstAnswer, active, done, last, lastError, states };
}

/**
 * From a daemon log: the milliseconds between "daemon <pid> recovering on <socket>" (its API
 * listens, answering `recovering`) and "recovery complete"; undefined when the log does not say.
 */
function recoveringWindow(logFile, pid) {
  let lines;
  try {
    lines = fs.readFileSync(logFile, "utf8").split("\n");
  } catch {
    return undefined;
  }
  const i = lines.findLastIndex((l) => l.includes(` daemon ${pid} recovering on `));
  const j = i < 0 ? -1 : lines.findIndex((l, k) => k > i && l.includes("recovery complete"));
  if (j < 0) return undefined;
  const at = (l) => Date.parse(l.split(" ")[0]);
  return at(lines[j]) - at(lines[i]);
}

async function benchSteward() {
  const cli = stewardCli();
  const missing = stewardMissing();
  if (missing) {
    notes.steward = missing;
    log(`  ${notes.steward}`);
    return;
  }
  if (/\s/.test(PROGRAM.argv.join(""))) throw new Error("paths with whitespace are not supported");
  const dir = path.join(tmpRoot, "steward");
  const home = path.join(dir, "home");
  const socket = path.join(home, "steward.sock");
  const tag = `steward-recovery-${process.pid}`;
  // restart: null keeps Steward's default policy (on-failure), as a user's topology would.
  const file = stewardTopology(
    dir,
    "bench-recovery",
    [{ name: "c", command: PROGRAM.argv.join(" "), replicas: N, tag, restart: null }],
    { home },
  );
  const census = new Census(tag, PROGRAM.exe);
  const steward = (...args) => [NODE, cli, "-f", file, ...args];
  const daemons = new Set(); // every daemon pid seen, to make sure none is left
  const children = new Set(); // daemons this benchmark spawned itself
  const teardown = async () => {
    const running = await daemonGet(socket, "/v1/status").then(
      () => true,
      () => false,
    );
    const down = await runCommand("steward down", steward("down"), { allowFail: true, timeoutMs: 60_000 });
    for (const pid of daemons) {
      if (!alive(pid)) continue;
      process.kill(pid, "SIGTERM");
      await waitGone(pid, 10_000).catch(() => process.kill(pid, "SIGKILL"));
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    const left = census.scan();
    census.killAll();
    await census.waitFor("no program is left", (n) => n === 0, 10_000);
    return { running, down, left };
  };
  cleanups.push(() => teardown());
  addRow("steward.up", "Steward, `steward up` (starts the daemon, which recovers)");
  addRow("steward.daemon", "Steward, `steward daemon` alone");

  const status = async () =>
    JSON.parse((await runCommand("steward status --json", steward("status", "--json"))).stdout);
  /** The replicas as the daemon lists them, in the form `assess` takes. */
  const listedOf = (doc) =>
    replicasOf(doc).map((r) => ({ key: `${r.c}[${r.index}]`, pid: r.pid, running: r.state === "ready" }));
  const originalOf = (doc) =>
    new Map(
      replicasOf(doc).map((r) => [`${r.c}[${r.index}]`, { pid: r.pid, startTime: procStartTime(r.pid) }]),
    );

  /** SIGKILLs the daemon of `doc` with everything running; returns the originals and the instance. */
  const killDaemon = async (doc) => {
    const reps = replicasOf(doc);
    const ready = reps.filter((r) => r.state === "ready" && r.pid).length;
    if (doc.daemon?.state !== "active" || ready !== N)
      throw new Error(
        `before the kill: expected an active daemon and ${N} ready replicas; ${summarize(doc, new Map())}`,
      );
    const original = originalOf(doc);
    daemons.add(doc.daemon.pid);
    process.kill(doc.daemon.pid, "SIGKILL");
    await waitGone(doc.daemon.pid);
    return { original, instance: doc.daemon.instance };
  };

  /** Measures one restart (`how`: up | daemon) after killing the daemon of `before`; returns the new status. */
  const measure = async (run, how, before) => {
    const key = `steward.${how}`;
    const { original, instance } = await killDaemon(before);
    const t0 = performance.now();
    let command;
    let upRun;
    let daemonLog = path.join(home, "logs", "daemon.log");
    if (how === "up") {
      upRun = runCommand("steward up", steward("up"), { allowFail: true, timeoutMs: LIMIT_MS + 30_000 }).then(
        (r) => ((command = r.seconds), r),
      );
    } else {
      daemonLog = path.join(dir, `daemon-run${run}.log`);
      const out = fs.openSync(daemonLog, "w");
      const child = spawn(NODE, ["--max-semi-space-size=1", cli, "daemon", "-f", file], {
        env: baseEnv,
        cwd: root,
        detached: true,
        stdio: ["ignore", out, out],
      });
      fs.closeSync(out);
      children.add(child);
      child.once("exit", () => children.delete(child));
    }
    const p = await pollRecovered(socket, original, t0);
    const up = upRun ? await upRun : undefined;
    if (up && up.code !== 0) {
      const tail = (up.stdout + up.stderr).trim().split("\n").slice(-10).join("\n");
      throw new Error(`steward up exited with ${up.code} after ${up.seconds.toFixed(2)} s:\n${tail}`);
    }
    // Counted once the daemon answered (or the limit passed), from the last answer.
    const doc = p.last ?? (await status().catch(() => undefined));
    if (doc?.daemon?.pid) daemons.add(doc.daemon.pid);
    const counts = assess(doc ? listedOf(doc) : [], original, census);
    const result = {
      command,
      firstAnswer: p.firstAnswer,
      active: p.active,
      recovered: p.done,
      ...counts,
      instanceBefore: instance,
      instanceAfter: doc?.daemon?.instance,
      recoveringMs: doc?.daemon?.pid ? recoveringWindow(daemonLog, doc.daemon.pid) : undefined,
    };
    const warm = run === 0;
    log(
      `  steward ${how} ${warm ? "warm-up" : `run ${run}`}: ` +
        (p.done === undefined ? "NOT RECOVERED" : `recovered in ${p.done.toFixed(3)} s`) +
        (command === undefined ? "" : ` (steward up ${command.toFixed(3)} s)`) +
        `, first answer ${p.firstAnswer?.toFixed(3) ?? "–"} s; originals alive ${counts.originalsAlive}, ` +
        `adopted ${counts.adopted}, restarted ${counts.newCopies}, unsupervised ${counts.unsupervised}; ` +
        `instance ${instance} → ${doc?.daemon?.instance ?? "?"}; daemon states seen: ${p.states.join(" → ") || "none"}`,
    );
    if (p.done === undefined) {
      fail(key, run, `not recovered within ${opts.timeout} s: ${summarize(p.last, original)}`, {
        lastError: p.lastError,
        statesSeen: p.states,
        ...result,
      });
    } else if (!warm) {
      record(key, result);
      (observations[key] ??= []).push(p.states.join(" → "));
    }
    if (doc === undefined) throw new Error(`no daemon answered after ${how}: ${p.lastError ?? "?"}`);
    return doc;
  };

  for (let run = 0; run <= opts.runs && !cleanups.interrupted; run++) {
    try {
      census.reset();
      const up = await runCommand("steward up", steward("up"));
      await census.waitFor(`${N} programs run after steward up`, (n) => n >= N);
      await census.settle();
      const first = await status();
      log(
        `  steward ${run === 0 ? "warm-up" : `run ${run}`}: up ${up.seconds.toFixed(2)} s (daemon pid ${first.daemon?.pid}, instance ${first.daemon?.instance})`,
      );
      // (a) `steward up` after the kill, then (b) the daemon alone after a second kill.
      const afterUp = await measure(run, "up", first);
      await sleep(200); // let a restarted replica settle before the next kill
      await measure(run, "daemon", afterUp.daemon.state === "active" ? afterUp : await status());
    } catch (err) {
      fail("steward", run, err.message);
    } finally {
      const { running, down, left } = await teardown();
      if (running && down.code !== 0)
        fail("steward", run, `steward down exited with ${down.code}: ${(down.stdout + down.stderr).trim()}`);
      if (left > 0) fail("steward", run, `${left} program(s) still alive after steward down (killed)`);
      if (run > 0) record("steward.down", { left });
    }
  }
  await cleanups.run();
}

// ---------------------------------------------------------------------------------------------
// PM2 (dev dependency), with its own PM2_HOME.
async function benchPm2() {
  const pm2Bin = fs.realpathSync(path.join(root, "node_modules", ".bin", "pm2"));
  const home = path.join(tmpRoot, "pm2-home");
  fs.mkdirSync(home, { recursive: true });
  const env = { ...baseEnv, PM2_HOME: home };
  const pm2 = (...args) => [NODE, pm2Bin, ...args];
  const tag = `pm2-recovery-${process.pid}`;
  const census = new Census(tag, PROGRAM.exe);
  const eco = path.join(tmpRoot, "ecosystem.config.cjs");
  const apps = Array.from({ length: N }, (_, i) => ({
    name: `c${i}`,
    ...(opts.program === "node"
      ? { script: PROGRAM.argv[1] }
      : { script: PROGRAM.argv[0], args: PROGRAM.argv.slice(1), interpreter: "none" }),
    exec_mode: "fork",
    kill_timeout: 5000,
    env: { [TAG_VAR]: tag },
  }));
  fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps }, null, 1)};\n`);
  const godPid = () => Number(fs.readFileSync(path.join(home, "pm2.pid"), "utf8"));
  const gods = new Set();
  const teardown = async () => {
    await runCommand("pm2 kill", pm2("kill"), { env, allowFail: true, timeoutMs: 60_000 });
    for (const pid of gods) if (alive(pid)) process.kill(pid, "SIGKILL");
    const left = census.scan();
    census.killAll();
    await census.waitFor("no program is left", (n) => n === 0, 10_000);
    return left;
  };
  cleanups.push(() => teardown());
  /** `pm2 jlist`, parsed; undefined when no daemon answers. */
  const jlist = async () => {
    const r = await runCommand("pm2 jlist", pm2("jlist"), { env, allowFail: true, timeoutMs: 30_000 });
    if (r.code !== 0) return undefined;
    const start = r.stdout.indexOf("[");
    try {
      return JSON.parse(r.stdout.slice(start));
    } catch {
      return undefined;
    }
  };
  const online = (list) => (list ?? []).filter((p) => p.pm2_env?.status === "online" && p.pid);
  const VARIANTS = {
    ping: { label: "PM2, `pm2 ping` (new God daemon, after `pm2 save`)", argv: pm2("ping") },
    resurrect: {
      label: "PM2, `pm2 resurrect` (of the `pm2 save` done before the kill)",
      argv: pm2("resurrect"),
    },
  };
  for (const [v, { label }] of Object.entries(VARIANTS)) addRow(`pm2.${v}`, label);

  for (let run = 0; run <= opts.runs && !cleanups.interrupted; run++) {
    for (const [v, { argv }] of Object.entries(VARIANTS)) {
      const key = `pm2.${v}`;
      let left;
      try {
        census.reset();
        await runCommand("pm2 start", pm2("start", eco), { env });
        gods.add(godPid());
        await census.waitFor(`${N} programs run under pm2`, (n) => n >= N);
        await census.settle();
        await runCommand("pm2 save", pm2("save"), { env });
        const before = online(await jlist());
        if (before.length !== N) throw new Error(`before the kill: ${before.length} of ${N} apps online`);
        const original = new Map(
          before.map((p) => [p.name, { pid: p.pid, startTime: procStartTime(p.pid) }]),
        );
        const god = godPid();
        process.kill(god, "SIGKILL");
        await waitGone(god);

        const t0 = performance.now();
        const cmd = await runCommand(`pm2 ${v}`, argv, { env, timeoutMs: LIMIT_MS + 30_000 });
        gods.add(godPid());
        let answered;
        let recovered;
        let list;
        while (performance.now() - t0 < LIMIT_MS + cmd.seconds * 1000) {
          list = await jlist();
          if (list) {
            answered ??= since(t0);
            // After `ping` the new daemon has nothing to run: answering is all there is to wait for.
            if (v === "ping" || online(list).length >= N) {
              recovered = since(t0);
              break;
            }
          }
          await sleep(5);
        }
        await census.settle(); // anything it started has had time to appear
        list = (await jlist()) ?? list;
        const counts = assess(
          (list ?? []).map((p) => ({ key: p.name, pid: p.pid, running: p.pm2_env?.status === "online" })),
          original,
          census,
        );
        left = await teardown();
        const result = { command: cmd.seconds, firstAnswer: answered, recovered, ...counts, left };
        log(
          `  pm2 ${v} ${run === 0 ? "warm-up" : `run ${run}`}: pm2 ${v} ${cmd.seconds.toFixed(3)} s, jlist answers at ` +
            `${answered?.toFixed(3) ?? "–"} s, ${online(list).length} online; originals alive ${counts.originalsAlive}, ` +
            `supervised ${counts.adopted}, new copies ${counts.newCopies}, unsupervised ${counts.unsupervised}; ` +
            `left after pm2 kill ${left}`,
        );
        if (recovered === undefined)
          fail(
            key,
            run,
            `${online(list).length} of ${N} apps online ${opts.timeout} s after pm2 ${v}`,
            result,
          );
        else if (run > 0) record(key, result);
      } catch (err) {
        fail(key, run, err.message);
      } finally {
        if (left === undefined) await teardown();
      }
    }
  }
  await cleanups.run();
}

// ---------------------------------------------------------------------------------------------
// supervisord (Debian package `supervisor`), with its own config and socket.
async function benchSupervisord() {
  ensureSupervisord(log);
  const dir = path.join(tmpRoot, "supervisord");
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  const tag = `supervisord-recovery-${process.pid}`;
  const census = new Census(tag, PROGRAM.exe);
  const conf = path.join(dir, "supervisord.conf");
  const lines = [
    "[unix_http_server]",
    `file=${dir}/supervisor.sock`,
    "chmod=0700",
    "[supervisord]",
    `logfile=${dir}/supervisord.log`,
    `pidfile=${dir}/supervisord.pid`,
    `childlogdir=${dir}/logs`,
    "nodaemon=true",
    "user=root",
    "[rpcinterface:supervisor]",
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    "[supervisorctl]",
    `serverurl=unix://${dir}/supervisor.sock`,
  ];
  for (let i = 0; i < N; i++) {
    lines.push(
      `[program:c${i}]`,
      `command=${PROGRAM.argv.join(" ")}`,
      "autostart=true",
      "startsecs=0", // RUNNING as soon as spawned, as in start-stop.mjs
      "stopwaitsecs=5",
      `stdout_logfile=${dir}/logs/c${i}.log`,
      "redirect_stderr=true",
      `environment=${TAG_VAR}="${tag}"`,
    );
  }
  if (process.getuid?.() !== 0) lines.splice(lines.indexOf("user=root"), 1);
  fs.writeFileSync(conf, lines.join("\n") + "\n");
  const ctl = (...args) => ["supervisorctl", "-c", conf, ...args];
  let daemon;
  let seq = 0;
  const startDaemon = () => {
    const outFile = path.join(dir, `supervisord-${++seq}.out`);
    const out = fs.openSync(outFile, "w");
    const child = spawn("supervisord", ["-c", conf], { env: baseEnv, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.exited = new Promise((r) => child.once("exit", r));
    child.outFile = outFile;
    daemon = child;
    return child;
  };
  /** `supervisorctl status`: Map name → { state, pid }; undefined when supervisord does not answer. */
  const ctlStatus = async () => {
    const r = await runCommand("supervisorctl status", ctl("status"), { allowFail: true, timeoutMs: 30_000 });
    const m = new Map();
    for (const line of r.stdout.split("\n")) {
      const x = /^(\S+)\s+([A-Z]+)(?:\s+pid (\d+))?/.exec(line);
      if (x) m.set(x[1], { state: x[2], pid: x[3] ? Number(x[3]) : null });
    }
    return m.size > 0 ? m : undefined;
  };
  const running = (st) => [...(st?.values() ?? [])].filter((p) => p.state === "RUNNING").length;
  const teardown = async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      // `stop all` first: `shutdown` alone reaps its programs about two a second (7 s for 20 here).
      await runCommand("supervisorctl stop all", ctl("stop", "all"), { allowFail: true, timeoutMs: 60_000 });
      await runCommand("supervisorctl shutdown", ctl("shutdown"), { allowFail: true, timeoutMs: 30_000 });
      const t = await Promise.race([daemon.exited.then(() => "exited"), sleep(30_000)]);
      if (t !== "exited") daemon.kill("SIGKILL");
    }
    const left = census.scan();
    census.killAll();
    await census.waitFor("no program is left", (n) => n === 0, 10_000);
    return left;
  };
  cleanups.push(() => teardown());
  addRow("supervisord", "supervisord, started again with the same config");

  /** Polls `supervisorctl status` from t0 until all N are RUNNING (or the limit). */
  const waitRunning = async (t0, child) => {
    let answered;
    let st;
    while (performance.now() - t0 < LIMIT_MS) {
      if (child.exitCode !== null)
        throw new Error(
          `supervisord exited (${child.exitCode}): ${fs.readFileSync(child.outFile, "utf8").slice(-500)}`,
        );
      const s = await ctlStatus();
      if (s) {
        st = s;
        answered ??= since(t0);
        if (running(s) >= N) return { answered, allRunning: since(t0), st };
      }
      await sleep(5);
    }
    return { answered, st };
  };

  for (let run = 0; run <= opts.runs && !cleanups.interrupted; run++) {
    const key = "supervisord";
    let left;
    try {
      census.reset();
      const first = startDaemon();
      const up = await waitRunning(performance.now(), first);
      if (up.allRunning === undefined) throw new Error(`before the kill: ${running(up.st)} of ${N} RUNNING`);
      await census.waitFor(`${N} programs run under supervisord`, (n) => n >= N);
      await census.settle();
      const st0 = await ctlStatus();
      const original = new Map(
        [...st0]
          .filter(([, p]) => p.pid)
          .map(([name, p]) => [name, { pid: p.pid, startTime: procStartTime(p.pid) }]),
      );
      first.kill("SIGKILL");
      await first.exited;

      const t0 = performance.now();
      const second = startDaemon();
      const w = await waitRunning(t0, second);
      await census.settle();
      const st = (await ctlStatus()) ?? w.st;
      const counts = assess(
        [...(st ?? [])].map(([name, p]) => ({ key: name, pid: p.pid, running: p.state === "RUNNING" })),
        original,
        census,
      );
      left = await teardown();
      const result = { firstAnswer: w.answered, recovered: w.allRunning, ...counts, left };
      log(
        `  supervisord ${run === 0 ? "warm-up" : `run ${run}`}: status answers at ${w.answered?.toFixed(3) ?? "–"} s, ` +
          `all RUNNING at ${w.allRunning?.toFixed(3) ?? "–"} s; originals alive ${counts.originalsAlive}, ` +
          `supervised ${counts.adopted}, new copies ${counts.newCopies}, unsupervised ${counts.unsupervised}; ` +
          `left after shutdown ${left}`,
      );
      if (w.allRunning === undefined)
        fail(key, run, `${running(st)} of ${N} RUNNING ${opts.timeout} s after the restart`, result);
      else if (run > 0) record(key, result);
    } catch (err) {
      fail(key, run, err.message);
    } finally {
      if (left === undefined) await teardown();
    }
  }
  await cleanups.run();
}

// ---------------------------------------------------------------------------------------------
// The report.
function report(info) {
  const fmt = (xs, digits) => {
    if (!xs?.length) return "–";
    const m = median(xs).toFixed(digits);
    const lo = Math.min(...xs).toFixed(digits);
    const hi = Math.max(...xs).toFixed(digits);
    return lo === hi ? m : `${m} (${lo}–${hi})`;
  };
  const out = [];
  out.push(`# Recovery benchmark — ${info.date}`, "");
  const v = info.versions;
  out.push(
    `N = ${N} programs (\`${PROGRAM.label}\`) running under a supervisor whose daemon is SIGKILLed and started ` +
      `again; median of ${opts.runs} runs after a warm-up (range in brackets when runs differ). ` +
      `node ${v.node}, ${v.cpus} × ${v.cpu}, Linux ${v.kernel}, load average ${info.loadavg.before[0].toFixed(2)} before / ` +
      `${info.loadavg.after[0].toFixed(2)} after; Steward ${v.steward}` +
      `${v.pm2 ? `, pm2 ${v.pm2}` : ""}${v.supervisord ? `, supervisord ${v.supervisord}` : ""}.`,
    "",
  );
  if (info.strippedEnv.length)
    out.push(`Removed from the environment of everything run: ${info.strippedEnv.join(", ")}.`, "");
  out.push(
    "| system, restarted with | command (s) | first answer (s) | recovered (s) | originals alive | supervised, same pid | restarted / new copies | alive, unsupervised | instance before → after | left over at teardown | failed runs |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const [key, label] of rows) {
    const s = samples[key] ?? {};
    const f = failures[key] ?? [];
    const measured = f.filter((x) => x.run > 0).length;
    const left = key.startsWith("steward") ? samples["steward.down"]?.left : s.left;
    const inst =
      s.instanceBefore?.length && s.instanceAfter?.length
        ? `${fmt(s.instanceBefore, 0)} → ${fmt(s.instanceAfter, 0)}`
        : "–";
    out.push(
      `| ${label} | ${fmt(s.command, 3)} | ${fmt(s.firstAnswer, 3)} | ${fmt(s.recovered, 3)} | ${fmt(s.originalsAlive, 0)} | ` +
        `${fmt(s.adopted, 0)} | ${fmt(s.newCopies, 0)} | ${fmt(s.unsupervised, 0)} | ${inst} | ${fmt(left, 0)} | ` +
        `${measured} of ${opts.runs} |`,
    );
  }
  for (const [key, label] of rows) {
    const w = samples[key]?.recoveringMs;
    if (!w?.length) continue;
    const seen = [...new Set(observations[key] ?? [])].map((x) => `\`${x}\``).join(", ");
    out.push(
      "",
      `${label}: the daemon log puts ${fmt(w, 0)} ms between "daemon <pid> recovering on <socket>" (the API ` +
        `listens, in state \`recovering\`) and "recovery complete"; the daemon states the 5 ms status poll saw: ` +
        `${seen || "–"}.`,
    );
  }
  out.push(
    "",
    "## What the columns mean",
    "",
    "- **command**: wall time of the command a user runs after the crash (`steward up`, `pm2 ping`, " +
      "`pm2 resurrect`); – where the benchmark starts the daemon itself (`steward daemon`, `supervisord`).",
    "- **first answer**: from that command's (or the daemon's) spawn until the daemon first answers: " +
      "Steward `GET /v1/status` on `<home>/steward.sock`, polled every 5 ms; PM2 `pm2 jlist`; supervisord " +
      "`supervisorctl status` (each CLI call is itself ~0.2–0.5 s, which bounds the resolution).",
    `- **recovered**: from the same instant until the daemon reports all ${N} running — Steward: ` +
      "`.daemon.state` `active` and every replica `ready` with its *original* pid; PM2 `resurrect`: " +
      `${N} apps \`online\` in \`pm2 jlist\` (\`ping\`: as soon as \`jlist\` answers, since the new God daemon ` +
      `runs nothing); supervisord: ${N} \`RUNNING\`. A run that does not get there within ${opts.timeout} s fails ` +
      "(its last status is in the notes) and is not in the medians.",
    "- **originals alive**: programs from before the kill still alive (same pid and same start time in /proc).",
    "- **supervised, same pid**: originals the new daemon lists as running (Steward `ready`, PM2 `online`, " +
      "supervisord `RUNNING`) under their original pid: adopted.",
    "- **restarted / new copies**: live programs the new daemon lists under a pid that is not the original " +
      "one (Steward: a replica it restarted; PM2/supervisord: a second copy started beside the orphaned original).",
    "- **alive, unsupervised**: live programs with the benchmark's tag (found in /proc, whatever the system " +
      "says) that the new daemon does not list: orphans of the killed daemon, strays or duplicates.",
    "- **instance**: Steward's daemon instance count (`.daemon.instance`) before the kill and after the " +
      "restart: +1 per crash.",
    "- **left over at teardown**: tagged programs still alive after the system's own teardown (`steward down`, " +
      "`pm2 kill`, `supervisorctl stop all` then `shutdown`); the benchmark SIGKILLs them and counts them here.",
    "",
    "Each Steward run: `steward up` (clean boot, N replicas), SIGKILL the daemon, `steward up` again (a); " +
      "SIGKILL that daemon, spawn `node --max-semi-space-size=1 bin/steward.js daemon -f <file>` detached (b); " +
      "`steward down`. PM2 and supervisord start fresh for every measurement.",
  );
  const extra = [
    ...Object.entries(notes),
    ...Object.entries(failures).flatMap(([k, fs_]) =>
      fs_.map((f) => [`${k} ${f.run === 0 ? "warm-up" : `run ${f.run}`}`, `FAILED: ${f.message}`]),
    ),
    ...Object.entries(errors).map(([k, e]) => [k, `ERROR: ${e}`]),
  ];
  if (extra.length)
    out.push("", "## Notes", "", ...extra.map(([k, t]) => `- ${k}: ${t.replace(/\n/g, "\n  ")}`));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
const date = new Date().toISOString().slice(0, 10);
const loadBefore = os.loadavg();
log(`recovery benchmark: N=${N}, runs=${opts.runs}, systems: ${opts.only.join(", ")}; temp dir ${tmpRoot}`);
const benches = { steward: benchSteward, pm2: benchPm2, supervisord: benchSupervisord };
for (const system of SYSTEMS) {
  if (!opts.only.includes(system) || cleanups.interrupted) continue;
  log(`\n${system}:`);
  try {
    await benches[system]();
  } catch (err) {
    errors[system] = err.message;
    console.error(`  ${system} failed: ${err.message}`);
  } finally {
    await cleanups.run();
  }
}

// Interrupted: no report; the signal handler cleans up and exits 130.
if (cleanups.interrupted) await new Promise(() => {});
const swept = await sweepUntilQuiet(markers);
if (swept.length) {
  errors.leftovers = `${swept.length} process(es) of the benchmark were still running at the end and were killed`;
  console.error(`  ${errors.leftovers}: ${swept.join(" ")}`);
}
const info = {
  date,
  program: PROGRAM.label,
  versions: { ...versions(), steward: stewardVersion() },
  strippedEnv: stripped,
  loadavg: { before: loadBefore, after: os.loadavg() },
  n: N,
  runs: opts.runs,
  timeoutSeconds: opts.timeout,
  systems: opts.only,
};
const md = report(info);
const suffix =
  (opts.only.length === SYSTEMS.length ? "" : `-${opts.only.join("-")}`) +
  (opts.program === "sleep" ? "" : `-${opts.program}`);
const baseName = saveResults(`recovery-${date}${suffix}`, md, {
  ...info,
  samples,
  observations,
  failures,
  notes,
  errors,
});
log(`\n${md}`);
log(`saved ${path.relative(process.cwd(), baseName)}.md and .json`);
if (opts.keep) log(`kept ${tmpRoot}`);
else fs.rmSync(tmpRoot, { recursive: true, force: true });
process.exit(Object.keys(errors).length > 0 || Object.keys(failures).length > 0 ? 1 : 0);
