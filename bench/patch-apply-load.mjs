#!/usr/bin/env node
// Patch apply under load: the edge's latency while a 100 MB patch archive is applied, and what
// the daemon holds before and after (see bench/README.md).
//
//   node bench/patch-apply-load.mjs [--runs 2] [--mb 100] [--steady 10] [--duration 20] [--delay 2] [--keep]
//
// Each run, in a fresh temporary directory holding copies of examples/shop and
// examples/shop-patching: `patch init --from shop`, `up`, `patch prepare`. A patch archive is
// generated: `--mb` MB of random (incompressible) bytes in 20 files plus patch.yaml, as `.tar.gz`.
// wrk (`-c50 -t2 --latency`) on GET /version through the edge: a steady window of `--steady` s,
// then a window of `--duration` s during which `patch apply` starts `--delay` s in. The daemon is
// started with NODE_OPTIONS=--import bench/fixtures/module-log.mjs, which logs every ES module it
// loads: the bench reports the daemon's RSS and its modules before and after the apply, and
// whether yaml, zod or tar-stream are among them. Results: bench/results/patch-apply-load-<date>.{md,json}.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  NODE,
  benchDir,
  benchEnv,
  freePort,
  median,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
  versions,
} from "./lib/common.mjs";
import { vmRssMB } from "./lib/proc.mjs";
import { ensureWrk, parseWrk } from "./lib/wrk.mjs";

const opts = {
  runs: 2,
  mb: 100,
  steady: 10,
  duration: 20,
  delay: 2,
  connections: 50,
  threads: 2,
  keep: false,
};
for (let i = 2; i < process.argv.length; i += 1) {
  const a = process.argv[i];
  if (a === "--keep") opts.keep = true;
  else if (a === "--help") {
    console.log(
      "usage: node bench/patch-apply-load.mjs [--runs N] [--mb MB] [--steady S] [--duration S] [--delay S] [--keep]",
    );
    process.exit(0);
  } else if (a.startsWith("--") && a.slice(2) in opts) opts[a.slice(2)] = Number(process.argv[++i]);
  else {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
}
const missing = stewardMissing();
if (missing) {
  console.error(missing);
  process.exit(2);
}
ensureWrk();
const { env: baseEnv } = benchEnv(false);
const log = (...a) => console.log(...a);
const HOOK = path.join(benchDir, "fixtures", "module-log.mjs");
const WATCHED = ["yaml", "zod", "tar-stream", "streamx", "ignore"];

function version(port) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: "/version", agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve(`error ${err.message}`));
  });
}

/** Runs `steward -f <file> …args`; resolves with its output and wall time, rejects when it fails. */
function steward(file, env, ...args) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [stewardCli(), "-f", file, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("exit", (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ out, ms });
      else reject(new Error(`steward ${args.join(" ")} exited ${code}:\n${out}`));
    });
  });
}

function wrk(port, seconds, outFile) {
  const args = [
    `-t${opts.threads}`,
    `-c${opts.connections}`,
    `-d${seconds}s`,
    "--timeout",
    "2s",
    "--latency",
  ];
  const out = fs.openSync(outFile, "w");
  const child = spawn("wrk", [...args, `http://127.0.0.1:${port}/version`], {
    env: baseEnv,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  return new Promise((resolve, reject) =>
    child.on("exit", (code) => {
      const text = fs.readFileSync(outFile, "utf8");
      if (code === 0) resolve(parseWrk(text));
      else reject(new Error(`wrk exited ${code}: ${text.slice(-400)}`));
    }),
  );
}

/** A `.tar.gz` patch of `mb` MB of random bytes in 20 files. */
function makeArchive(dir) {
  const patch = path.join(dir, "big-patch");
  fs.mkdirSync(path.join(patch, "files", "blobs"), { recursive: true });
  fs.writeFileSync(
    path.join(patch, "patch.yaml"),
    "id: big-patch\ndescription: a large patch for the benchmark\n",
  );
  const per = Math.ceil((opts.mb * 1_000_000) / 20);
  for (let i = 0; i < 20; i += 1)
    fs.writeFileSync(path.join(patch, "files", "blobs", `blob-${i}.bin`), randomBytes(per));
  const archive = path.join(dir, "big-patch.tar.gz");
  execFileSync("tar", ["-czf", archive, "-C", dir, "big-patch"]);
  fs.rmSync(patch, { recursive: true });
  return archive;
}

/** The daemon's pid, RSS (MB) and the ES modules it has loaded (from the module log). */
function daemonSnapshot(home, moduleLog) {
  const pid = Number(fs.readFileSync(path.join(home, "daemon.pid"), "utf8").trim());
  const urls = fs
    .readFileSync(moduleLog, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`${pid} `))
    .map((l) => l.slice(l.indexOf(" ") + 1));
  const packages = new Set(
    urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean),
  );
  return {
    pid,
    rssMB: Number(vmRssMB(pid).toFixed(1)),
    modules: urls.length,
    packages: [...packages].sort(),
    watched: WATCHED.filter((p) => packages.has(p)),
  };
}

async function run(n) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "steward-apply-load-"));
  for (const ex of ["shop", "shop-patching"])
    fs.cpSync(path.join(root, "examples", ex), path.join(tmp, ex), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.steward`),
    });
  const edge = await freePort();
  const moduleLog = path.join(tmp, "modules.log");
  const env = {
    ...baseEnv,
    SHOP_STORE_PORT: String(await freePort()),
    SHOP_EDGE_PORT: String(edge),
    STEWARD_MODULE_LOG: moduleLog,
    NODE_OPTIONS: `${baseEnv.NODE_OPTIONS ?? ""} --import=${HOOK}`.trim(),
  };
  const file = path.join(tmp, "shop-patching", "steward.yaml");
  const home = path.join(tmp, "shop-patching", ".steward");
  const result = { run: n };
  try {
    const t0 = performance.now();
    const archive = makeArchive(tmp);
    result.archiveMB = Number((fs.statSync(archive).size / 1e6).toFixed(1));
    log(`  run ${n}: generated ${result.archiveMB} MB archive in ${(performance.now() - t0).toFixed(0)} ms`);
    await steward(file, env, "patch", "init", "--from", path.join(tmp, "shop"));
    await steward(file, env, "up");
    if ((await version(edge)) !== 200) throw new Error("the shop does not answer through the edge");
    result.prepareMs = (await steward(file, env, "patch", "prepare")).ms;
    result.steady = await wrk(edge, opts.steady, path.join(tmp, "wrk-steady.txt"));
    result.before = daemonSnapshot(home, moduleLog);
    const load = wrk(edge, opts.duration, path.join(tmp, "wrk-apply.txt"));
    await sleep(opts.delay * 1000);
    let peakRss = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          peakRss = Math.max(peakRss, vmRssMB(result.before.pid));
        } catch {
          break; // the daemon is gone: the apply will say why
        }
        await sleep(50);
      }
    })();
    result.applyMs = (await steward(file, env, "patch", "apply", archive)).ms;
    sampling = false;
    await sampler;
    result.during = await load;
    result.after = daemonSnapshot(home, moduleLog);
    result.peakRssMB = Number(peakRss.toFixed(1));
    const stored = path.join(tmp, "shop-patching", "editions", "fs_ne", "patches", "big-patch");
    result.stored = fs.existsSync(stored);
    result.applyInsideWindow = opts.delay * 1000 + result.applyMs < opts.duration * 1000;
    log(
      `  run ${n}: apply ${result.applyMs.toFixed(0)} ms; p99 steady ${result.steady.p99} ms, during apply ${result.during.p99} ms ` +
        `(${(result.during.p99 / result.steady.p99).toFixed(2)}×); failed ${result.during.failed}; ` +
        `daemon RSS ${result.before.rssMB} → ${result.after.rssMB} MB (peak ${result.peakRssMB}), modules ${result.before.modules} → ${result.after.modules}, ` +
        `yaml/zod/tar-stream loaded: ${result.after.watched.join(", ") || "none"}`,
    );
  } finally {
    await steward(file, env, "down").catch((err) => log(`  down failed: ${err.message}`));
    if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`  kept ${tmp}`);
  }
  return result;
}

const results = [];
for (let n = 1; n <= opts.runs; n += 1) results.push(await run(n));

const date = new Date().toISOString().slice(0, 10);
const med = (f) => median(results.map(f));
const rows = results.map(
  (r) =>
    `| ${r.run} | ${r.archiveMB} | ${r.applyMs.toFixed(0)} | ${r.steady.p50} / ${r.steady.p99} | ${r.during.p50} / ${r.during.p99} / ${r.during.max} | ${(r.during.p99 / r.steady.p99).toFixed(2)}× | ${r.during.failed} of ${r.during.requests} | ${r.before.rssMB} → ${r.after.rssMB} (peak ${r.peakRssMB}) | ${r.before.modules} → ${r.after.modules} | ${r.after.watched.join(", ") || "none"} |`,
);
const md = `# Patch apply under load — ${date}

\`patch apply\` of a generated ${opts.mb} MB \`.tar.gz\` (random bytes, 20 files) while wrk
(${opts.connections} connections, ${opts.threads} threads) reads GET /version of the shop through the edge.
\`node bench/patch-apply-load.mjs --runs ${opts.runs} --mb ${opts.mb} --steady ${opts.steady} --duration ${opts.duration} --delay ${opts.delay}\`.
The archive is checked and unpacked (streaming) by a short-lived \`steward patch check --json\`
child; the daemon moves the staged copy into the patch store and writes the files into the
patch edition. Target: edge p99 during the apply within 2× steady.

| run | archive (MB) | apply wall time (ms) | p50 / p99 steady (ms) | p50 / p99 / max during apply (ms) | p99 ratio | failed | daemon RSS MB before → after | daemon ES modules before → after | of yaml, zod, tar-stream, streamx, ignore: loaded in the daemon |
|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Median p99 steady ${med((r) => r.steady.p99)} ms, during apply ${med((r) => r.during.p99)} ms
(${med((r) => r.during.p99 / r.steady.p99).toFixed(2)}×); median apply ${med((r) => r.applyMs).toFixed(0)} ms.
Packages the daemon had loaded after the apply: ${results[0]?.after.packages.join(", ")}.

Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(" ")} at the end (shared with other work); ${JSON.stringify(versions())}.
`;
saveResults(`patch-apply-load-${date}`, md, { date, opts, results, versions: versions() });
log(md);
