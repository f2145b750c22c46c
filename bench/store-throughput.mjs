#!/usr/bin/env node
// State store write throughput: replica state transitions per second with full durability, for
// each store Steward has (SQLite; PostgreSQL once it is built). See bench/README.md.
//
//   node bench/store-throughput.mjs [--runs 3] [--seconds 2] [--replicas 100] [--only sqlite,postgres]
//
// Uses the project's built store (dist/store/open-store.js, dist/store/state-writer.js). Two
// figures per store: one transition per commit, awaited one after the other; and the daemon's own
// pattern, every replica changing state in the same event-loop turn through StateWriter (one group
// commit per turn). The machine's fsync cost, in the same directory, is measured for context. The
// table (medians) is printed and saved to bench/results/store-throughput-<date>[-<only>].{md,json}.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import {
  Cleanups,
  STRIPPED_ENV,
  benchEnv,
  median,
  root,
  saveResults,
  stewardVersion,
  which,
} from "./lib/common.mjs";

const STORES = ["sqlite", "postgres"];

// ---------------------------------------------------------------------------------------------
// Arguments.
function usage(code) {
  console.log(`usage: node bench/store-throughput.mjs [--runs N] [--seconds S] [--replicas N] [--only ${STORES.join("|")}[,...]] [--pg-url URL]
  --runs N       measured runs per store after one warm-up (median reported; default 3)
  --seconds S    how long each figure is measured in a run (default 2)
  --replicas N   replicas changing state in one event-loop turn, for the group-commit figure (default 100)
  --only LIST    comma-separated subset of: ${STORES.join(", ")}
  --pg-url URL   PostgreSQL server (trust or password in the URL); a fresh database is created there
                 and dropped afterwards (default postgres://postgres@127.0.0.1:5432)
  --keep         keep the temporary directory (the SQLite file)
  --keep-env     do not remove ${STRIPPED_ENV.join(", ")} from the environment (nothing is spawned but psql)`);
  process.exit(code);
}
const opts = {
  runs: 3,
  seconds: 2,
  replicas: 100,
  only: STORES,
  pgUrl: "postgres://postgres@127.0.0.1:5432",
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
  else if (a === "--seconds") opts.seconds = Number(val());
  else if (a === "--replicas") opts.replicas = Number(val());
  else if (a === "--only") opts.only = val().split(",").filter(Boolean);
  else if (a === "--pg-url") opts.pgUrl = val();
  else if (a === "--keep") opts.keep = true;
  else if (a === "--keep-env") opts.keepEnv = true;
  else if (a === "--help" || a === "-h") usage(0);
  else {
    console.error(`unknown argument ${a}`);
    usage(2);
  }
}
for (const s of opts.only) {
  if (!STORES.includes(s)) {
    console.error(`--only: unknown store ${s}`);
    usage(2);
  }
}
if (!(opts.runs >= 1) || !(opts.seconds > 0) || !(opts.replicas >= 1)) usage(2);
const R = opts.replicas;
const { env: baseEnv, stripped } = benchEnv(opts.keepEnv);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "steward-store-"));
const log = (...a) => console.log(...a);
const cleanups = new Cleanups().onSignals(() => {
  if (!opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const results = {}; // results[store][metric] = number[]
const errors = {};
const notes = {};
const settings = {};
function record(store, metrics) {
  const s = (results[store] ??= {});
  for (const [m, v] of Object.entries(metrics)) (s[m] ??= []).push(v);
}

// ---------------------------------------------------------------------------------------------
// The machine's fsync cost: 100 × (write 64 bytes, fsync) of one file in the temp directory; `data`
// uses fdatasync, which SQLite uses on Linux (it skips the inode's timestamps).
function fsyncCost({ data = false, count = 100 } = {}) {
  const sync = data ? fs.fdatasyncSync : fs.fsyncSync;
  const file = path.join(tmpRoot, "fsync-probe");
  const fd = fs.openSync(file, "w");
  const buf = Buffer.alloc(64, 0x61);
  try {
    fs.writeSync(fd, buf, 0, buf.length, 0);
    fs.fsyncSync(fd);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      fs.writeSync(fd, buf, 0, buf.length, (i % 64) * 64);
      sync(fd);
    }
    return (performance.now() - t0) / count; // ms per fsync
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Records: a replica record as src/lifecycle/replica.ts builds it, moving through its lifecycle.
const CYCLE = ["starting", "running", "ready", "stopping", "stopped"];
function replicaRecord(index, step) {
  const state = CYCLE[step % CYCLE.length];
  const live = state !== "stopped";
  const now = Date.now();
  return {
    component: "web",
    index,
    state,
    pid: live ? 40_000 + index : null,
    pgid: live ? 40_000 + index : null,
    startTime: live ? 1_234_567 + step : null,
    port: 7000 + index,
    restarts: Math.floor(step / CYCLE.length),
    lastExit: live
      ? null
      : { exitCode: 0, signal: null, reason: "stop requested", forced: false, durationMs: 1234, at: now },
    invalidated: false,
    reason: null,
    updatedAt: now,
  };
}

/** One transition per commit, each awaited before the next: transitions (= commits) per second. */
async function sequential(store, ms) {
  let n = 0;
  const t0 = performance.now();
  while (n < 20 || performance.now() - t0 < ms) {
    await store.commit({ replicas: [replicaRecord(n % R, Math.floor(n / R) + 1)] });
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  return { perSecond: n / s, msPerCommit: (s * 1000) / n, transitions: n };
}

/**
 * The daemon's pattern: R replicas each change state in the same event-loop turn through
 * StateWriter, and each awaits its own change; repeated. Counts the commits the writer made.
 */
async function grouped(StateWriter, store, ms) {
  let commits = 0;
  let failure;
  const counting = {
    commit: (batch) => {
      commits++;
      return store.commit(batch);
    },
  };
  const writer = new StateWriter(counting, (err) => (failure ??= err));
  let rounds = 0;
  const t0 = performance.now();
  while (rounds < 5 || performance.now() - t0 < ms) {
    const step = rounds + 1;
    await Promise.all(Array.from({ length: R }, (_, i) => writer.putReplica(replicaRecord(i, step))));
    rounds++;
  }
  await writer.flush();
  const s = (performance.now() - t0) / 1000;
  if (failure) throw failure;
  return {
    perSecond: (rounds * R) / s,
    commitsPerSecond: commits / s,
    commitsPerTurn: commits / rounds,
    rounds,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database through psql, dropped afterwards.
function psql(url, sql) {
  const r = spawnSync("psql", [url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], {
    env: baseEnv,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.status !== 0)
    throw new Error(`psql ${JSON.stringify(sql)} failed: ${(r.stderr || r.stdout || "").trim()}`);
  return r.stdout.trim();
}
function withDatabase(base, db) {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
async function benchStore(kind, mods) {
  const { openStore, StateWriter } = mods;
  let spec;
  if (kind === "sqlite") {
    spec = { kind: "sqlite", path: path.join(tmpRoot, "sqlite", "state.db") };
  } else {
    if (!which("psql")) {
      notes.postgres = "skipped: psql is not installed (needed to create the database)";
      log(`  ${notes.postgres}`);
      return;
    }
    const db = `steward_bench_${process.pid}_${Date.now()}`;
    const admin = withDatabase(opts.pgUrl, "postgres");
    psql(admin, `CREATE DATABASE "${db}"`);
    cleanups.push(() => psql(admin, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
    spec = { kind: "postgres", url: withDatabase(opts.pgUrl, db) };
    settings.postgres = {
      server: psql(admin, "SHOW server_version"),
      synchronous_commit: psql(admin, "SHOW synchronous_commit"),
      fsync: psql(admin, "SHOW fsync"),
      wal_sync_method: psql(admin, "SHOW wal_sync_method"),
    };
  }
  let store;
  try {
    store = await openStore(spec);
  } catch (err) {
    if (err?.code === "STW-2004") {
      notes[kind] = `skipped: openStore({ kind: "${kind}" }) says ${err.code} — ${err.message}`;
      log(`  ${notes[kind]}`);
      return;
    }
    throw err;
  }
  cleanups.push(() => store.close());
  if (kind === "sqlite" && typeof store.settings === "function") settings.sqlite = store.settings();
  log(`  ${kind}: ${store.location}; settings ${JSON.stringify(settings[kind] ?? {})}`);
  const ms = opts.seconds * 1000;
  for (let run = 0; run <= opts.runs && !cleanups.interrupted; run++) {
    const fsyncMs = fsyncCost();
    const fdatasyncMs = fsyncCost({ data: true });
    const seq = await sequential(store, run === 0 ? 300 : ms);
    const grp = await grouped(StateWriter, store, run === 0 ? 300 : ms);
    if (run > 0) {
      record(kind, {
        fsyncMs,
        fdatasyncMs,
        sequential: seq.perSecond,
        msPerCommit: seq.msPerCommit,
        grouped: grp.perSecond,
        groupCommitsPerSecond: grp.commitsPerSecond,
        commitsPerTurn: grp.commitsPerTurn,
      });
    }
    log(
      `  ${kind} ${run === 0 ? "warm-up" : `run ${run}`}: fsync ${fsyncMs.toFixed(2)} ms, fdatasync ` +
        `${fdatasyncMs.toFixed(2)} ms; one per commit ` +
        `${seq.perSecond.toFixed(0)} transitions/s (${seq.msPerCommit.toFixed(2)} ms/commit, ${seq.transitions}); ` +
        `${R} per turn ${grp.perSecond.toFixed(0)} transitions/s (${grp.commitsPerSecond.toFixed(0)} commits/s, ` +
        `${grp.commitsPerTurn.toFixed(2)} commits per turn, ${grp.rounds} turns)`,
    );
  }
  const stored = await store.listReplicas();
  if (stored.length !== R) throw new Error(`the store holds ${stored.length} replica records, expected ${R}`);
  await cleanups.run(); // close (and drop the PostgreSQL database)
}

// ---------------------------------------------------------------------------------------------
function report(info) {
  const f = (xs, d) => (xs?.length ? median(xs).toFixed(d) : "–");
  /** The median, and the range in brackets when the runs differ. */
  const fr = (xs, d) => {
    if (!xs?.length) return "–";
    const lo = Math.min(...xs).toFixed(d);
    const hi = Math.max(...xs).toFixed(d);
    return lo === hi ? median(xs).toFixed(d) : `${median(xs).toFixed(d)} (${lo}–${hi})`;
  };
  const v = info.versions;
  const out = [`# State store write throughput — ${info.date}`, ""];
  out.push(
    `Replica state transitions per second with full durability, median of ${opts.runs} runs of ${opts.seconds} s ` +
      `after a warm-up (range in brackets). node ${v.node}, ${v.cpus} × ${v.cpu}, Linux ${v.kernel}, load average ` +
      `${info.loadavg.before[0].toFixed(2)} before / ${info.loadavg.after[0].toFixed(2)} after; Steward ${v.steward}, ` +
      `better-sqlite3 ${v.betterSqlite3 ?? "?"} (SQLite ${v.sqlite ?? "?"})` +
      `${settings.postgres ? `, PostgreSQL ${settings.postgres.server}` : ""}; temp dir on ${info.tmpFs}.`,
    "",
    `Rewriting 64 bytes of a small file in the same temp directory and syncing it costs ` +
      `**${f(info.fsyncMs, 2)} ms with fsync** (${(1000 / median(info.fsyncMs)).toFixed(0)}/s) and ` +
      `**${f(info.fdatasyncMs, 2)} ms with fdatasync** (${(1000 / median(info.fdatasyncMs)).toFixed(0)}/s), ` +
      `median of ${info.fsyncMs.length} × 100.`,
    "",
    `| store | durability | 1 transition per commit (transitions/s) | ms per commit | ${R} replicas per turn, group commit (transitions/s) | commits/s | commits per turn |`,
    "|---|---|---:|---:|---:|---:|---:|",
  );
  const durability = {
    sqlite: settings.sqlite
      ? `WAL, synchronous=${settings.sqlite.synchronous}`
      : "WAL, synchronous=FULL (as the store sets it)",
    postgres: settings.postgres
      ? `synchronous_commit=${settings.postgres.synchronous_commit}, fsync=${settings.postgres.fsync}, ${settings.postgres.wal_sync_method}`
      : "–",
  };
  for (const kind of opts.only) {
    const r = results[kind];
    if (!r) {
      out.push(
        `| ${kind} | ${durability[kind]} | ${notes[kind] ? "skipped (see notes)" : errors[kind] ? "failed (see notes)" : "–"} | | | | |`,
      );
      continue;
    }
    out.push(
      `| ${kind} | ${durability[kind]} | ${fr(r.sequential, 0)} | ${fr(r.msPerCommit, 2)} | ${fr(r.grouped, 0)} | ` +
        `${fr(r.groupCommitsPerSecond, 0)} | ${fr(r.commitsPerTurn, 2)} |`,
    );
  }
  out.push(
    "",
    "## What the columns mean",
    "",
    "- **1 transition per commit**: `await store.commit({ replicas: [record] })` in a loop, one replica record " +
      "(as `src/lifecycle/replica.ts` builds it, moving through starting → running → ready → stopping → stopped) " +
      "per transaction; each resolves once durable. **ms per commit** is its inverse.",
    `- **${R} replicas per turn, group commit**: the daemon's pattern — ${R} replicas each call ` +
      "`StateWriter.putReplica()` in the same event-loop turn and await their own promise; the writer commits " +
      "them in one transaction; repeated. **commits/s** and **commits per turn** count the writer's `commit` calls " +
      "(1 per turn means every transition of the turn shared one fsync'd transaction).",
    "- **fsync / fdatasync** (above the table): 100 × (write 64 bytes in place, then `fsync` or `fdatasync`) of " +
      "a file in the directory the SQLite store lives in, measured in every run: the floor for one durable commit " +
      "on this machine. SQLite in WAL mode with `synchronous=FULL` syncs the WAL at every commit, with " +
      "`fdatasync` on Linux.",
    '- SQLite: `dist/store/open-store.js` `openStore({ kind: "sqlite", path })` on a file in the temp directory. ' +
      'PostgreSQL: `openStore({ kind: "postgres", url })` on a database created for the run with `psql` and ' +
      "dropped afterwards.",
  );
  const extra = [...Object.entries(notes), ...Object.entries(errors).map(([k, e]) => [k, `ERROR: ${e}`])];
  if (extra.length)
    out.push("", "## Notes", "", ...extra.map(([k, t]) => `- ${k}: ${t.replace(/\n/g, "\n  ")}`));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
const date = new Date().toISOString().slice(0, 10);
const loadBefore = os.loadavg();
log(
  `store throughput benchmark: runs=${opts.runs} × ${opts.seconds} s, ${R} replicas, stores: ${opts.only.join(", ")}; temp dir ${tmpRoot}`,
);
const fsyncSamples = [];
const fdatasyncSamples = [];
let mods;
const dist = (p) => pathToFileURL(path.join(root, "dist", "store", p)).href;
try {
  const [{ openStore }, { StateWriter }] = await Promise.all([
    import(dist("open-store.js")),
    import(dist("state-writer.js")),
  ]);
  mods = { openStore, StateWriter };
} catch (err) {
  errors.steward = `cannot load the built store (run \`npm run build\` first): ${err.message}`;
  console.error(`  ${errors.steward}`);
}
for (const kind of STORES) {
  if (!mods || !opts.only.includes(kind) || cleanups.interrupted) continue;
  log(`\n${kind}:`);
  try {
    await benchStore(kind, mods);
  } catch (err) {
    errors[kind] = err.message;
    console.error(`  ${kind} failed: ${err.stack ?? err.message}`);
  } finally {
    await cleanups.run();
  }
}
// Interrupted: no report; the signal handler cleans up and exits 130.
if (cleanups.interrupted) await new Promise(() => {});
for (const r of Object.values(results)) {
  fsyncSamples.push(...(r.fsyncMs ?? []));
  fdatasyncSamples.push(...(r.fdatasyncMs ?? []));
}
if (fsyncSamples.length === 0) {
  for (let i = 0; i < opts.runs; i++) {
    fsyncSamples.push(fsyncCost());
    fdatasyncSamples.push(fsyncCost({ data: true }));
  }
}

const v = {
  node: process.version,
  kernel: os.release(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? "?",
};
v.steward = stewardVersion();
try {
  v.betterSqlite3 = JSON.parse(
    fs.readFileSync(path.join(root, "node_modules", "better-sqlite3", "package.json"), "utf8"),
  ).version;
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(":memory:");
  v.sqlite = db.prepare("select sqlite_version() as v").get().v;
  db.close();
} catch {
  // not installed
}
const tmpFs = spawnSync("df", ["-T", tmpRoot], { encoding: "utf8" })
  .stdout?.trim()
  .split("\n")[1]
  ?.split(/\s+/)[1];
const info = {
  date,
  versions: v,
  strippedEnv: stripped,
  loadavg: { before: loadBefore, after: os.loadavg() },
  tmpFs: tmpFs ?? "?",
  fsyncMs: fsyncSamples,
  fdatasyncMs: fdatasyncSamples,
  runs: opts.runs,
  seconds: opts.seconds,
  replicas: R,
  stores: opts.only,
};
const md = report(info);
const suffix = opts.only.length === STORES.length ? "" : `-${opts.only.join("-")}`;
const baseName = saveResults(`store-throughput-${date}${suffix}`, md, {
  ...info,
  settings,
  results,
  notes,
  errors,
});
log(`\n${md}`);
log(`saved ${path.relative(process.cwd(), baseName)}.md and .json`);
if (opts.keep) log(`kept ${tmpRoot}`);
else fs.rmSync(tmpRoot, { recursive: true, force: true });
process.exit(Object.keys(errors).length > 0 ? 1 : 0);
