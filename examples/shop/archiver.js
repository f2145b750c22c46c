#!/usr/bin/env node
// The shop's archiver: every 2 s reads every key from the store (`GET /kv`) and replaces
// <dir>/latest.json atomically: write a temporary file, fsync it, rename it over the old one,
// fsync the directory. A reader sees the old snapshot or the new one, never half of one.
//
//   node archiver.js [--dir ./archive]     environment: STORE_URL (http://127.0.0.1:7001), ARCHIVE_MS (2000)
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { logger, parseArgs, request } from "./lib.js";

const log = logger("archiver");
let opts;
try {
  opts = parseArgs(process.argv.slice(2), { dir: "./archive" });
} catch (err) {
  console.error(`archiver: ${err.message}`);
  process.exit(2);
}
const dir = path.resolve(opts.dir);
const storeUrl = (process.env.STORE_URL ?? "http://127.0.0.1:7001").replace(/\/+$/, "");
const everyMs = Number(process.env.ARCHIVE_MS ?? 2000);
const target = path.join(dir, "latest.json");
fs.mkdirSync(dir, { recursive: true });

let stopping = false;
let lastCount = -1;

async function archiveOnce() {
  const res = await request("GET", `${storeUrl}/kv`, { timeoutMs: 5000 });
  if (res.status !== 200) throw new Error(`store answered ${res.status}`);
  const all = JSON.parse(res.body);
  const snapshot = JSON.stringify(
    { at: new Date().toISOString(), keys: Object.keys(all).length, data: all },
    null,
    1,
  );
  const tmp = `${target}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, "w");
  try {
    await fh.writeFile(snapshot);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, target);
  const dfh = await fsp.open(dir, "r");
  try {
    await dfh.sync();
  } finally {
    await dfh.close();
  }
  const count = Object.keys(all).length;
  if (count !== lastCount) log(`archived ${count} keys to ${target}`);
  lastCount = count;
}

let wake = null;
function shutdown() {
  stopping = true;
  wake?.();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

log(`archiving ${storeUrl}/kv to ${target} every ${everyMs} ms`);
while (!stopping) {
  try {
    await archiveOnce();
  } catch (err) {
    log(`archive failed (will retry): ${err.message}`);
  }
  if (stopping) break;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, everyMs);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });
}
log("stopped");
process.exit(0);
