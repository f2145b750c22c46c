#!/usr/bin/env node
// The engine's drain hook: `node flush.js <port | base URL>` asks that engine to flush every dirty
// key to the store (`POST /flush`) and exits 0 only once the store confirmed them (no curl needed).
// Without an argument it uses $PORT (a hook runs with its replica's environment).
import { request } from "./lib.js";

const target = process.argv[2] ?? process.env.PORT;
if (!target) {
  console.error("usage: node flush.js <engine port | engine base URL>   (or set PORT)");
  process.exit(2);
}
const base = /^\d+$/.test(target) ? `http://127.0.0.1:${target}` : target.replace(/\/+$/, "");
try {
  const res = await request("POST", `${base}/flush`, {
    timeoutMs: Number(process.env.FLUSH_TIMEOUT_MS ?? 9000),
  });
  if (res.status !== 200) {
    console.error(`flush ${base}: engine answered ${res.status}: ${res.body.trim()}`);
    process.exit(1);
  }
  console.log(`flush ${base}: ${res.body.trim()}`);
  process.exit(0);
} catch (err) {
  console.error(`flush: ${err.message}`);
  process.exit(1);
}
