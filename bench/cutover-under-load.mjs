#!/usr/bin/env node
// Cutover under load: failed requests and latency while the shop's engine (2 replicas, routed
// through Steward's edge) is cut over to a patched edition under wrk load (see bench/README.md).
//
//   node bench/cutover-under-load.mjs [--runs 2] [--steady 10] [--duration 12] [--delay 3] [--keep]
//
// Each run, in a fresh temporary directory holding copies of examples/shop and
// examples/shop-patching: `patch init --from shop`, `up`, then `patch prepare`, `patch apply
// shop/patches/engine-version-2` (its build step runs), `patch finalize` (each timed). Then wrk
// (`-c50 -t2 --latency`) on GET /version through the edge: a steady window of `--steady` s, then a
// window of `--duration` s during which `patch cutover` starts `--delay` s in. A tiny client polls
// /version every 10 ms during the cutover to time the first answer from the new edition. Failed
// requests are wrk's socket errors plus non-2xx answers. Results: bench/results/cutover-under-load-<date>.{md,json}.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  NODE,
  benchEnv,
  freePort,
  median,
  root,
  saveResults,
  stewardCli,
  stewardMissing,
  versions,
} from "./lib/common.mjs";
import { ensureWrk, parseWrk } from "./lib/wrk.mjs";

const opts = { runs: 2, steady: 10, duration: 12, delay: 3, connections: 50, threads: 2, keep: false };
for (let i = 2; i < process.argv.length; i += 1) {
  const a = process.argv[i];
  if (a === "--keep") opts.keep = true;
  else if (a === "--help") {
    console.log(
      "usage: node bench/cutover-under-load.mjs [--runs N] [--steady S] [--duration S] [--delay S] [--keep]",
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

function version(port) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: "/version", agent: false, timeout: 2000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve(res.statusCode === 200 ? JSON.parse(body).version : `status ${res.statusCode}`),
        );
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

async function run(n) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "steward-cutover-load-"));
  fs.cpSync(path.join(root, "examples", "shop"), path.join(tmp, "shop"), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}.steward`),
  });
  fs.cpSync(path.join(root, "examples", "shop-patching"), path.join(tmp, "shop-patching"), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}.steward`),
  });
  const edge = await freePort();
  const env = { ...baseEnv, SHOP_STORE_PORT: String(await freePort()), SHOP_EDGE_PORT: String(edge) };
  const file = path.join(tmp, "shop-patching", "steward.yaml");
  const result = { run: n };
  try {
    await steward(file, env, "patch", "init", "--from", path.join(tmp, "shop"));
    await steward(file, env, "up");
    if ((await version(edge)) !== "1") throw new Error("the shop does not answer version 1 through the edge");
    result.prepareMs = (await steward(file, env, "patch", "prepare")).ms;
    result.applyMs = (
      await steward(file, env, "patch", "apply", path.join(tmp, "shop", "patches", "engine-version-2"))
    ).ms;
    result.finalizeMs = (await steward(file, env, "patch", "finalize")).ms;
    log(
      `  run ${n}: prepare ${result.prepareMs.toFixed(0)} ms, apply ${result.applyMs.toFixed(0)} ms, finalize ${result.finalizeMs.toFixed(0)} ms`,
    );
    result.steady = await wrk(edge, opts.steady, path.join(tmp, "wrk-steady.txt"));
    const load = wrk(edge, opts.duration, path.join(tmp, "wrk-cutover.txt"));
    await sleep(opts.delay * 1000);
    const t0 = performance.now();
    let firstNew = null;
    let polling = true;
    const answers = new Map();
    const poller = (async () => {
      while (polling) {
        const v = await version(edge);
        answers.set(v, (answers.get(v) ?? 0) + 1);
        if (v === "2" && firstNew === null) firstNew = performance.now() - t0;
        await sleep(10);
      }
    })();
    const cutover = await steward(file, env, "patch", "cutover");
    result.cutoverMs = cutover.ms;
    result.firstNewMs = firstNew;
    result.cutover = await load;
    polling = false;
    await poller;
    result.pollAnswers = Object.fromEntries(answers);
    const after = new Set();
    for (let i = 0; i < 20; i += 1) after.add(await version(edge));
    result.versionsAfter = [...after];
    const status = JSON.parse((await steward(file, env, "patch", "status", "--json")).out);
    result.session = status.history[0] && { id: status.history[0].id, status: status.history[0].status };
    log(
      `  run ${n}: cutover ${result.cutoverMs.toFixed(0)} ms (first v2 answer after ${firstNew?.toFixed(0)} ms); ` +
        `failed ${result.cutover.failed} of ${result.cutover.requests}; p99 steady ${result.steady.p99} ms, during ${result.cutover.p99} ms`,
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
    `| ${r.run} | ${r.cutover.failed} of ${r.cutover.requests} | ${r.steady.rps.toFixed(0)} | ${r.cutover.rps.toFixed(0)} | ${r.steady.p50} / ${r.steady.p99} | ${r.cutover.p50} / ${r.cutover.p99} / ${r.cutover.max} | ${r.cutoverMs.toFixed(0)} | ${r.firstNewMs?.toFixed(0) ?? "—"} | ${r.versionsAfter.join(",")} | ${r.session?.status} |`,
);
const md = `# Cutover under load — ${date}

The shop's engine (2 replicas behind Steward's edge) cut over from edition fs1 (version 1) to fs2
(engine-version-2, built by its step) while wrk (${opts.connections} connections, ${opts.threads} threads) reads
GET /version through the edge. \`node bench/cutover-under-load.mjs --runs ${opts.runs} --steady ${opts.steady} --duration ${opts.duration} --delay ${opts.delay}\`.

| run | failed requests (cutover window) | req/s steady | req/s cutover window | p50 / p99 steady (ms) | p50 / p99 / max cutover window (ms) | cutover wall time (ms) | first v2 answer after (ms) | versions after | session |
|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Median cutover ${med((r) => r.cutoverMs).toFixed(0)} ms; failed requests ${results.map((r) => r.cutover.failed).join(", ")}.
prepare / apply / finalize (median): ${med((r) => r.prepareMs).toFixed(0)} / ${med((r) => r.applyMs).toFixed(0)} / ${med((r) => r.finalizeMs).toFixed(0)} ms.

For comparison, the seed (the original online patching cycle) describes its cutover as "a short
downtime period while the application tier services are restarted" — "typically a few minutes",
during which the system is unavailable to users. Steward's cutover of a routed component has no
downtime window: the new edition's replicas start beside the old ones and routing moves at once.

Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${JSON.stringify(versions())}.
`;
saveResults(`cutover-under-load-${date}`, md, { date, opts, results, versions: versions() });
log(md);
