#!/usr/bin/env node
// Start/stop benchmark: Steward vs PM2 vs supervisord vs raw child_process.spawn (see bench/README.md).
//
//   node bench/start-stop.mjs [--runs 3] [--n 100] [--only steward,pm2,supervisord,raw] [--port-base P] [--keep]
//
// Every system starts the same N copies of bench/fixtures/sleeper.mjs and is measured the same way:
// the wall time of its CLI command with the daemon already running, then the time until every
// program runs (start) or is gone (stop), observed in /proc — independently of what the system
// reports. The table (medians) is printed and saved to bench/results/start-stop-<date>[-<only>].{md,json}.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Cleanups,
  NODE,
  NODE_EXE,
  SLEEPER,
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
  versions,
} from "./lib/common.mjs";
import { Census as TagCensus, TAG_VAR, alive, sweepUntilQuiet, vmRssMB } from "./lib/proc.mjs";

const SYSTEMS = ["raw", "steward", "pm2", "supervisord"];

// ---------------------------------------------------------------------------------------------
// Arguments.
function usage(code) {
  console.log(`usage: node bench/start-stop.mjs [--runs N] [--n N] [--only ${SYSTEMS.join("|")}[,...]] [--port-base P] [--keep]
  --runs N       measured runs per system (median reported; default 3)
  --n N          programs per scenario (default 100)
  --only LIST    comma-separated subset of: ${SYSTEMS.join(", ")}
  --port-base P  first of the N consecutive loopback ports for the tcp chain (default: first free range from 21000)
  --program P    node (default): fixtures/sleeper.mjs; sleep: /bin/sleep infinity, which boots in ~1 ms
                 and isolates the supervisor's own cost (the chain always uses sleeper.mjs --listen)
  --keep         keep the temporary directory (topologies, configs, logs)
  --keep-env     do not remove ${STRIPPED_ENV.join(", ")} from the environment of what the benchmark runs`);
  process.exit(code);
}
const opts = { runs: 3, n: 100, only: SYSTEMS, portBase: 0, keep: false, keepEnv: false, program: "node" };
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
  else if (a === "--port-base") opts.portBase = Number(val());
  else if (a === "--keep") opts.keep = true;
  else if (a === "--keep-env") opts.keepEnv = true;
  else if (a === "--program") opts.program = val();
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
if (!(opts.runs >= 1) || !(opts.n >= 1) || !["node", "sleep"].includes(opts.program)) usage(2);
const N = opts.n;
/** The program started N times: its executable (as /proc/<pid>/exe shows it) and argv. */
const PROGRAM = program(opts.program);
/** The environment of everything the benchmark runs (CLIs, daemons, programs). */
const { env: baseEnv, stripped } = benchEnv(opts.keepEnv);

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "steward-bench-"));
const log = (...a) => console.log(...a);

// Cleanups run in reverse order on success, error and Ctrl-C; each is removed once it ran. After
// Ctrl-C, a command still in flight may start a daemon once the cleanups ran: every process whose
// command line or environment holds the temporary directory or one of our tags is then SIGKILLed.
const ourTags = ["raw", "steward-independent", "steward-chain", "steward-replicas", "pm2", "supervisord"].map(
  (t) => `${TAG_VAR}=${t}-${process.pid}\0`,
);
const cleanups = new Cleanups().onSignals(async () => {
  const swept = await sweepUntilQuiet([tmpRoot, ...ourTags]);
  if (swept.length) console.error(`killed ${swept.length} process(es) still running: ${swept.join(" ")}`);
  if (!opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
});
const runCleanups = () => cleanups.run();

// ---------------------------------------------------------------------------------------------
// Observing programs through /proc (bench/lib/proc.mjs): ours by executable and tag.
class Census extends TagCensus {
  constructor(tag, exe = PROGRAM.exe) {
    super(tag, exe);
  }
}

// Running commands: stdout/stderr go to files; the time is taken at the command's exit.
const runCommand = commandRunner(tmpRoot, baseEnv);

/** Times a command, then the wait until `pred(live programs)` holds. */
async function timed(census, label, argv, pred, what, options) {
  census.reset();
  const t0 = performance.now();
  const r = await runCommand(label, argv, options);
  await census.waitFor(what, pred);
  return { command: r.seconds, all: (performance.now() - t0) / 1000, out: r };
}

async function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
async function freePortRange(n, from) {
  for (let base = from; base + n < 65_000; base += n + 1) {
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports from ${from}`);
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Results.
/** results[system][scenario][metric] = number[] (one per run) */
const results = {};
const errors = {};
const notes = {};
function record(system, scenario, metric, value) {
  const sys = (results[system] ??= {});
  const sc = (sys[scenario] ??= {});
  (sc[metric] ??= []).push(value);
}

// ---------------------------------------------------------------------------------------------
// raw child_process.spawn: the floor.
async function benchRaw(chainBase) {
  const census = new Census(`raw-${process.pid}`);
  const chainCensus = new Census(`raw-${process.pid}`, NODE_EXE);
  const env = { ...baseEnv, [TAG_VAR]: `raw-${process.pid}` };
  let children = [];
  cleanups.push(() => census.killAll());
  cleanups.push(() => chainCensus.killAll());
  const spawnAll = (argvs) =>
    argvs.map(([bin, ...args]) => {
      const c = spawn(bin, args, { env, stdio: "ignore", detached: true });
      c.exited = new Promise((r) => c.once("exit", r));
      return c;
    });
  for (let run = 0; run <= opts.runs; run++) {
    const warm = run === 0; // the first round warms the page cache and is not recorded
    census.reset();
    let t0 = performance.now();
    children = spawnAll(Array.from({ length: N }, () => PROGRAM.argv));
    await Promise.all(children.map((c) => new Promise((r, j) => (c.once("spawn", r), c.once("error", j)))));
    const spawned = (performance.now() - t0) / 1000;
    await census.waitFor(`${N} raw programs run`, (n) => n >= N);
    const all = (performance.now() - t0) / 1000;
    await census.settle();
    census.reset();
    t0 = performance.now();
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    const exited = (performance.now() - t0) / 1000;
    await census.waitFor("raw programs are gone", (n) => n === 0);
    const gone = (performance.now() - t0) / 1000;
    if (!warm) {
      record("raw", "independent", "start.command", spawned);
      record("raw", "independent", "start.all", all);
      record("raw", "independent", "stop.command", exited);
      record("raw", "independent", "stop.all", gone);
    }
    log(
      `  raw ${warm ? "warm-up" : `run ${run}`}: spawn ${spawned.toFixed(3)} s, all running ${all.toFixed(3)} s; stop ${gone.toFixed(3)} s`,
    );
  }

  // A chain done by hand: spawn c_i once c_(i-1) accepts TCP (probing every 20 ms), stop in reverse.
  for (let run = 1; run <= opts.runs; run++) {
    chainCensus.reset();
    let t0 = performance.now();
    children = [];
    for (let i = 0; i < N; i++) {
      const [c] = spawnAll([[NODE, SLEEPER, "--listen", String(chainBase + i)]]);
      children.push(c);
      const deadline = performance.now() + 10_000;
      while (!(await tcpOpen(chainBase + i))) {
        if (performance.now() > deadline)
          throw new Error(`raw chain: port ${chainBase + i} not open within 10 s`);
        await sleep(20);
      }
    }
    const start = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (const c of [...children].reverse()) {
      c.kill("SIGTERM");
      await c.exited;
    }
    const stop = (performance.now() - t0) / 1000;
    await chainCensus.waitFor("raw chain is gone", (n) => n === 0);
    record("raw", "chain", "start.command", start);
    record("raw", "chain", "start.all", start);
    record("raw", "chain", "stop.command", stop);
    record("raw", "chain", "stop.all", (performance.now() - t0) / 1000);
    log(`  raw chain run ${run}: start ${start.toFixed(2)} s, stop ${stop.toFixed(2)} s`);
  }
}

// ---------------------------------------------------------------------------------------------
// Steward.
async function benchSteward(chainBase) {
  // STEWARD_CLI=/path/to/cli.js benchmarks another build of the CLI (run with this node).
  const cli = stewardCli();
  const missing = stewardMissing();
  if (missing) {
    notes.steward = missing;
    log(`  ${notes.steward}`);
    return;
  }
  if (/\s/.test(PROGRAM.argv.join("") + NODE + SLEEPER))
    throw new Error("paths with whitespace are not supported");
  const program = PROGRAM.argv.join(" ");
  const tag = (s) => `steward-${s}-${process.pid}`;
  const scenarios = [
    {
      scenario: "independent",
      tag: tag("independent"),
      components: Array.from({ length: N }, (_, i) => ({
        name: `c${i}`,
        command: program,
        tag: tag("independent"),
      })),
    },
    {
      scenario: "chain",
      tag: tag("chain"),
      exe: NODE_EXE,
      components: Array.from({ length: N }, (_, i) => ({
        name: `c${i}`,
        command: `${NODE} ${SLEEPER} --listen ${chainBase + i}`,
        tag: tag("chain"),
        tcp: chainBase + i,
        dependsOn: i > 0 ? `c${i - 1}` : undefined,
      })),
    },
    {
      scenario: "replicas",
      tag: tag("replicas"),
      components: [{ name: "c", command: program, replicas: N, tag: tag("replicas") }],
    },
  ];
  for (const sc of scenarios) {
    const file = stewardTopology(
      path.join(tmpRoot, `steward-${sc.scenario}`),
      `bench-${sc.scenario}`,
      sc.components,
    );
    const census = new Census(sc.tag, sc.exe);
    const steward = (...args) => [NODE, cli, "-f", file, ...args];
    let daemonPid;
    cleanups.push(async () => {
      await runCommand("steward down", steward("down"), { allowFail: true, timeoutMs: 60_000 }).catch(
        () => {},
      );
      if (daemonPid && alive(daemonPid)) {
        process.kill(daemonPid, "SIGTERM");
        await sleep(2000);
        if (alive(daemonPid)) process.kill(daemonPid, "SIGKILL");
      }
      census.killAll();
    });
    const status = async () =>
      JSON.parse((await runCommand("steward status --json", steward("status", "--json"))).stdout);

    // Warm-up: `up` starts the daemon and everything; `stop` leaves the daemon running.
    census.reset();
    const up = await runCommand("steward up", steward("up"));
    await census.waitFor(`${N} programs run after steward up`, (n) => n >= N);
    await census.settle();
    daemonPid = (await status()).daemon?.pid;
    if (!daemonPid) throw new Error("steward status --json did not give .daemon.pid");
    log(`  steward ${sc.scenario} warm-up: up ${up.seconds.toFixed(2)} s (daemon pid ${daemonPid})`);
    await runCommand("steward stop", steward("stop"));
    await census.waitFor("programs are gone after steward stop", (n) => n === 0);

    for (let run = 1; run <= opts.runs; run++) {
      const start = await timed(
        census,
        "steward start",
        steward("start"),
        (n) => n >= N,
        `${N} programs run`,
      );
      await census.settle();
      const st = await status();
      if (st.daemon?.pid !== daemonPid)
        throw new Error(`the daemon changed: pid ${daemonPid} → ${st.daemon?.pid}`);
      const replicas = (st.components ?? []).flatMap((c) => c.replicas ?? []);
      const ready = replicas.filter((r) => r.state === "ready").length;
      if (ready !== N) log(`  warning: steward status shows ${ready} of ${N} replicas ready after start`);
      const rss = vmRssMB(daemonPid);
      const stop = await timed(
        census,
        "steward stop",
        steward("stop"),
        (n) => n === 0,
        "every program is gone",
      );
      record("steward", sc.scenario, "start.command", start.command);
      record("steward", sc.scenario, "start.all", start.all);
      record("steward", sc.scenario, "stop.command", stop.command);
      record("steward", sc.scenario, "stop.all", stop.all);
      record("steward", sc.scenario, "rss", rss);
      log(
        `  steward ${sc.scenario} run ${run}: start ${start.command.toFixed(3)}/${start.all.toFixed(3)} s, ` +
          `stop ${stop.command.toFixed(3)}/${stop.all.toFixed(3)} s, daemon ${rss.toFixed(1)} MB`,
      );
    }
    await runCleanups(); // `down`: the daemon exits
  }
}

// ---------------------------------------------------------------------------------------------
// PM2 (dev dependency), with its own PM2_HOME.
async function benchPm2() {
  const pm2Bin = fs.realpathSync(path.join(root, "node_modules", ".bin", "pm2"));
  const home = path.join(tmpRoot, "pm2-home");
  fs.mkdirSync(home, { recursive: true });
  const env = { ...baseEnv, PM2_HOME: home };
  const pm2 = (...args) => [NODE, pm2Bin, ...args];
  const tag = `pm2-${process.pid}`;
  const census = new Census(tag);
  const eco = path.join(tmpRoot, "ecosystem.config.cjs");
  const apps = Array.from({ length: N }, (_, i) => ({
    name: `c${i}`,
    ...(opts.program === "node"
      ? { script: SLEEPER }
      : { script: PROGRAM.argv[0], args: PROGRAM.argv.slice(1), interpreter: "none" }),
    exec_mode: "fork",
    autorestart: false,
    kill_timeout: 5000,
    env: { [TAG_VAR]: tag },
  }));
  fs.writeFileSync(eco, `module.exports = ${JSON.stringify({ apps }, null, 1)};\n`);
  cleanups.push(async () => {
    await runCommand("pm2 kill", pm2("kill"), { env, allowFail: true, timeoutMs: 60_000 }).catch(() => {});
    census.killAll();
  });

  await runCommand("pm2 ping", pm2("ping"), { env }); // starts the God daemon
  const godPid = Number(fs.readFileSync(path.join(home, "pm2.pid"), "utf8"));
  census.reset();
  await runCommand("pm2 start", pm2("start", eco), { env });
  await census.waitFor(`${N} programs run under pm2`, (n) => n >= N);
  await census.settle();
  await runCommand("pm2 delete all", pm2("delete", "all"), { env });
  await census.waitFor("pm2 programs are gone", (n) => n === 0);
  log(`  pm2 warm-up done (God daemon pid ${godPid})`);

  for (let run = 1; run <= opts.runs; run++) {
    const start = await timed(census, "pm2 start", pm2("start", eco), (n) => n >= N, `${N} programs run`, {
      env,
    });
    await census.settle();
    const rss = vmRssMB(godPid);
    const stop = await timed(
      census,
      "pm2 stop all",
      pm2("stop", "all"),
      (n) => n === 0,
      "every program is gone",
      {
        env,
      },
    );
    await runCommand("pm2 delete all", pm2("delete", "all"), { env });
    // delete measured from running, as a user tearing down would do
    census.reset();
    await runCommand("pm2 start", pm2("start", eco), { env });
    await census.waitFor(`${N} programs run`, (n) => n >= N);
    await census.settle();
    const del = await timed(
      census,
      "pm2 delete all",
      pm2("delete", "all"),
      (n) => n === 0,
      "every program is gone",
      {
        env,
      },
    );
    record("pm2", "independent", "start.command", start.command);
    record("pm2", "independent", "start.all", start.all);
    record("pm2", "independent", "stop.command", stop.command);
    record("pm2", "independent", "stop.all", stop.all);
    record("pm2", "independent", "delete.command", del.command);
    record("pm2", "independent", "delete.all", del.all);
    record("pm2", "independent", "rss", rss);
    log(
      `  pm2 run ${run}: start ${start.command.toFixed(3)}/${start.all.toFixed(3)} s, stop ${stop.command.toFixed(3)}/` +
        `${stop.all.toFixed(3)} s, delete ${del.command.toFixed(3)}/${del.all.toFixed(3)} s, God ${rss.toFixed(1)} MB`,
    );
  }
  await runCleanups();
}

// ---------------------------------------------------------------------------------------------
// supervisord (Debian package `supervisor`), with its own config and socket.
async function benchSupervisord() {
  ensureSupervisord(log);
  const dir = path.join(tmpRoot, "supervisord");
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  const tag = `supervisord-${process.pid}`;
  const census = new Census(tag);
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
      "autostart=false",
      "autorestart=false",
      "startsecs=0", // RUNNING as soon as spawned: the same "pid alive" criterion as the others
      "stopwaitsecs=5",
      `stdout_logfile=${dir}/logs/c${i}.log`,
      "redirect_stderr=true",
      `environment=${TAG_VAR}="${tag}"`,
    );
  }
  if (process.getuid?.() !== 0) lines.splice(lines.indexOf("user=root"), 1);
  fs.writeFileSync(conf, lines.join("\n") + "\n");
  const ctl = (...args) => ["supervisorctl", "-c", conf, ...args];

  const daemonOut = fs.openSync(path.join(dir, "supervisord.out"), "w");
  const daemon = spawn("supervisord", ["-c", conf], {
    env: baseEnv,
    stdio: ["ignore", daemonOut, daemonOut],
  });
  fs.closeSync(daemonOut);
  const daemonExited = new Promise((r) => daemon.once("exit", r));
  cleanups.push(async () => {
    await runCommand("supervisorctl shutdown", ctl("shutdown"), { allowFail: true, timeoutMs: 30_000 }).catch(
      () => {},
    );
    const t = await Promise.race([daemonExited.then(() => "exited"), sleep(10_000)]);
    if (t !== "exited") daemon.kill("SIGKILL");
    census.killAll();
  });
  const deadline = performance.now() + 15_000;
  for (;;) {
    const r = await runCommand("supervisorctl pid", ctl("pid"), { allowFail: true });
    if (r.code === 0 && /^\d+$/.test(r.stdout.trim())) break;
    if (performance.now() > deadline || daemon.exitCode !== null) {
      throw new Error(
        `supervisord did not come up: ${fs.readFileSync(path.join(dir, "supervisord.out"), "utf8")}`,
      );
    }
    await sleep(100);
  }
  census.reset();
  await runCommand("supervisorctl start all", ctl("start", "all"));
  await census.waitFor(`${N} programs run under supervisord`, (n) => n >= N);
  await census.settle();
  await runCommand("supervisorctl stop all", ctl("stop", "all"));
  await census.waitFor("supervisord programs are gone", (n) => n === 0);
  log(`  supervisord warm-up done (pid ${daemon.pid})`);

  for (let run = 1; run <= opts.runs; run++) {
    const start = await timed(
      census,
      "supervisorctl start all",
      ctl("start", "all"),
      (n) => n >= N,
      `${N} run`,
    );
    await census.settle();
    const rss = vmRssMB(daemon.pid);
    const stop = await timed(
      census,
      "supervisorctl stop all",
      ctl("stop", "all"),
      (n) => n === 0,
      "all gone",
    );
    record("supervisord", "independent", "start.command", start.command);
    record("supervisord", "independent", "start.all", start.all);
    record("supervisord", "independent", "stop.command", stop.command);
    record("supervisord", "independent", "stop.all", stop.all);
    record("supervisord", "independent", "rss", rss);
    log(
      `  supervisord run ${run}: start ${start.command.toFixed(3)}/${start.all.toFixed(3)} s, ` +
        `stop ${stop.command.toFixed(3)}/${stop.all.toFixed(3)} s, daemon ${rss.toFixed(1)} MB`,
    );
  }
  await runCleanups();
}

// ---------------------------------------------------------------------------------------------
// The report.
function report(info) {
  const f = (xs) => (xs && xs.length ? median(xs).toFixed(3) : "–");
  const fmb = (xs) => (xs && xs.length ? median(xs).toFixed(1) : "–");
  const row = (label, sc, op = "stop") =>
    `| ${label} | ${f(sc?.["start.command"])} | ${f(sc?.["start.all"])} | ${f(sc?.[`${op}.command`])} | ${f(sc?.[`${op}.all`])} | ${fmb(sc?.rss)} |`;
  const head = [
    "| system | start: command (s) | start: all running (s) | stop: command (s) | stop: all gone (s) | daemon RSS (MB) |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const out = [];
  out.push(`# Start/stop benchmark — ${info.date}`, "");
  out.push(
    `N = ${N} programs (\`${PROGRAM.label}\`), median of ${opts.runs} runs after a warm-up; ` +
      `node ${info.versions.node}, ${info.versions.cpus} × ${info.versions.cpu}, Linux ${info.versions.kernel}, load average ${info.loadavg.before[0].toFixed(2)} before / ` +
      `${info.loadavg.after[0].toFixed(2)} after` +
      `${info.versions.pm2 ? `, pm2 ${info.versions.pm2}` : ""}${info.versions.supervisord ? `, supervisord ${info.versions.supervisord}` : ""}.`,
    "",
    (info.strippedEnv.length
      ? `Removed from the environment of everything run: ${info.strippedEnv.join(", ")}.\n\n`
      : "") +
      "*command* = wall time of the CLI command with the daemon already running (raw: until every `spawn`/`exit` event); " +
      "*all running / all gone* = from the same start until /proc shows every program alive / none alive.",
    "",
  );
  out.push(`## ${N} independent programs`, "", ...head);
  if (results.raw?.independent) out.push(row("raw child_process.spawn (baseline)", results.raw.independent));
  if (results.steward?.independent) out.push(row("Steward (`start` / `stop`)", results.steward.independent));
  if (results.steward?.replicas)
    out.push(row(`Steward, 1 component × ${N} replicas`, results.steward.replicas));
  if (results.pm2?.independent) {
    out.push(row("PM2 (`start ecosystem` / `stop all`)", results.pm2.independent));
    out.push(row("PM2 (`start ecosystem` / `delete all`)", results.pm2.independent, "delete"));
  }
  if (results.supervisord?.independent) {
    out.push(row("supervisord (`start all` / `stop all`)", results.supervisord.independent));
  }
  if (results.raw?.chain || results.steward?.chain) {
    out.push("", `## ${N}-long dependency chain, \`tcp\` readiness`, "", ...head);
    if (results.raw?.chain)
      out.push(row("raw: spawn, poll TCP every 20 ms, next (baseline)", results.raw.chain));
    if (results.steward?.chain) out.push(row("Steward (`start` / `stop`)", results.steward.chain));
  }
  const s = results.steward;
  if (s?.independent) {
    const check = (label, xs, limit, unit) => {
      const m = median(xs);
      return `- ${label}: ${m.toFixed(unit === "MB" ? 1 : 3)} ${unit} (target ≤ ${limit} ${unit}) — **${m <= limit ? "met" : "MISSED"}**`;
    };
    out.push("", "## Steward targets", "");
    out.push(check(`start ${N}, until all running`, s.independent["start.all"], 0.25, "s"));
    out.push(check(`stop ${N}, until all gone`, s.independent["stop.all"], 0.25, "s"));
    out.push(check(`daemon RSS, ${N} components running`, s.independent.rss, 70, "MB"));
    if (s.replicas?.rss) out.push(check(`daemon RSS, 1 component × ${N} replicas`, s.replicas.rss, 70, "MB"));
  }
  const extra = [...Object.entries(notes), ...Object.entries(errors).map(([k, v]) => [k, `ERROR: ${v}`])];
  if (extra.length)
    out.push("", "## Notes", "", ...extra.map(([k, v]) => `- ${k}: ${v.replace(/\n/g, "\n  ")}`));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
const date = new Date().toISOString().slice(0, 10);
const loadBefore = os.loadavg();
log(`start/stop benchmark: N=${N}, runs=${opts.runs}, systems: ${opts.only.join(", ")}; temp dir ${tmpRoot}`);
let chainBase = 0;
if (opts.only.includes("raw") || opts.only.includes("steward")) {
  chainBase = opts.portBase || (await freePortRange(N, 21_000));
  log(`chain ports: ${chainBase}..${chainBase + N - 1}`);
}
const benches = {
  raw: () => benchRaw(chainBase),
  steward: () => benchSteward(chainBase),
  pm2: benchPm2,
  supervisord: benchSupervisord,
};
for (const system of SYSTEMS) {
  if (!opts.only.includes(system) || cleanups.interrupted) continue;
  log(`\n${system}:`);
  try {
    await benches[system]();
  } catch (err) {
    errors[system] = err.message;
    console.error(`  ${system} failed: ${err.message}`);
  } finally {
    await runCleanups();
  }
}

// Interrupted: no report (it would overwrite a complete one); the signal handler exits 130.
if (cleanups.interrupted) await new Promise(() => {});
const info = {
  date,
  program: PROGRAM.label,
  versions: versions(),
  strippedEnv: stripped,
  loadavg: { before: loadBefore, after: os.loadavg() },
  n: N,
  runs: opts.runs,
  systems: opts.only,
};
const md = report(info);
const suffix =
  (opts.only.length === SYSTEMS.length ? "" : `-${opts.only.join("-")}`) +
  (opts.program === "node" ? "" : `-${opts.program}`);
const baseName = saveResults(`start-stop-${date}${suffix}`, md, { ...info, results, notes, errors });
log(`\n${md}`);
log(`saved ${path.relative(process.cwd(), baseName)}.md and .json`);
if (opts.keep) log(`kept ${tmpRoot}`);
else fs.rmSync(tmpRoot, { recursive: true, force: true });
process.exit(Object.keys(errors).length > 0 ? 1 : 0);
