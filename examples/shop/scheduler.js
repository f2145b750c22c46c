#!/usr/bin/env node
// The shop's scheduler: every 300 ms writes `tick-<n>` = timestamp through an engine and, once the
// engine acknowledged the write, appends the key to the ack ledger (fsynced). The ledger is the
// list of writes the application promised to keep: `node verify.js` checks the store has them all.
//
// Environment: ENGINES (comma-separated base URLs, round robin, the next one on error; default
// http://127.0.0.1:7100,http://127.0.0.1:7101), ACK_LEDGER (./data/acked.txt), TICK_MS (300).
// On SIGTERM it finishes the write in flight (and its ledger entry), then exits 0.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { logger, request } from "./lib.js";

const log = logger("scheduler");
const engines = (process.env.ENGINES ?? "http://127.0.0.1:7100,http://127.0.0.1:7101")
  .split(",")
  .map((s) => s.trim().replace(/\/+$/, ""))
  .filter(Boolean);
const ledgerPath = path.resolve(process.env.ACK_LEDGER ?? "./data/acked.txt");
const tickMs = Number(process.env.TICK_MS ?? 300);

fs.mkdirSync(path.dirname(ledgerPath), { recursive: true });
// Continue numbering after the last acknowledged tick, so a restart never rewrites an old key.
let n = 0;
try {
  for (const line of fs.readFileSync(ledgerPath, "utf8").split("\n")) {
    const m = /^tick-(\d+)$/.exec(line.trim());
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
} catch (err) {
  if (err.code !== "ENOENT") throw err;
}
const ledger = await fsp.open(ledgerPath, "a");
let next = 0; // round-robin position
let stopping = false;
let acked = 0;
let failedInARow = 0;

/** Writes one key through the first engine that acknowledges it; returns that engine or throws. */
async function write(key, value) {
  const errors = [];
  for (let i = 0; i < engines.length; i++) {
    const base = engines[(next + i) % engines.length];
    try {
      const res = await request("PUT", `${base}/kv/${encodeURIComponent(key)}`, {
        body: value,
        timeoutMs: 2000,
      });
      if (res.status >= 200 && res.status <= 299) {
        next = (next + i + 1) % engines.length;
        return base;
      }
      errors.push(`${base}: ${res.status}`);
    } catch (err) {
      errors.push(err.message);
    }
  }
  throw new Error(errors.join("; "));
}

async function tick() {
  const key = `tick-${n}`;
  try {
    await write(key, new Date().toISOString());
    await ledger.write(`${key}\n`);
    await ledger.sync();
    acked++;
    n++; // a failed tick is retried under the same key
    if (failedInARow > 0) log(`writing again after ${failedInARow} failed attempts`);
    failedInARow = 0;
    if (acked % 100 === 1) log(`acknowledged ${key} (${acked} since start)`);
  } catch (err) {
    if (failedInARow++ % 10 === 0) log(`no engine acknowledged ${key}: ${err.message}`);
  }
}

async function loop() {
  log(`writing every ${tickMs} ms through ${engines.join(", ")}; ledger ${ledgerPath}; next tick-${n}`);
  while (!stopping) {
    const started = Date.now();
    await tick();
    const wait = tickMs - (Date.now() - started);
    if (!stopping && wait > 0) await sleepUnlessStopping(wait);
  }
  await ledger.close();
  log(`stopped after ${acked} acknowledged writes`);
  process.exit(0);
}

let wake = null;
function sleepUnlessStopping(ms) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: finishing the write in flight`);
  wake?.();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

await loop();
