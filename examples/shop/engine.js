#!/usr/bin/env node
// The shop's API engine: an HTTP server with a write-back cache in front of the store.
//
//   PUT  /kv/<key>   keep the value in memory (dirty) and answer 202: the write is acknowledged
//                    but not yet durable; a background flush sends dirty keys to the store
//                    every FLUSH_INTERVAL_MS (2 s) in one `POST /kv/_batch`.
//   PUT  /kv/<key>?sync   the same, then flush, and answer 200 only once the store has the write
//                    on disk (fsynced): a durable acknowledgement, 503 when the store did not confirm
//   GET  /kv/<key>   the cached value, else the store's
//   GET  /kv         the store's keys overlaid with the dirty ones
//   POST /flush      flush everything that is dirty now; 200 only once the store confirmed
//                    (the topology's drain hook: nothing acknowledged is lost on a stop)
//   GET  /healthz    200 only when the store is reachable
//   GET  /version    {"version", "pid"}: the version in version.json beside this file, read at start
//                    ("1" without one); the patches in patches/ change it, to show a cutover
//
// Environment: PORT (7100), HOST (127.0.0.1), STORE_URL (http://127.0.0.1:7001), FLUSH_INTERVAL_MS.
// On SIGTERM it stops accepting, flushes what is dirty (retrying for up to 15 s) and exits 0 — or
// exits 1 and says how many acknowledged writes it could not save.
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { kvKey, logger, readBody, reply, request } from "./lib.js";

const log = logger("engine");
const port = Number(process.env.PORT ?? 7100);
const host = process.env.HOST ?? "127.0.0.1";
const storeUrl = (process.env.STORE_URL ?? "http://127.0.0.1:7001").replace(/\/+$/, "");
const flushIntervalMs = Number(process.env.FLUSH_INTERVAL_MS ?? 2000);
const versionFile = new URL("./version.json", import.meta.url);
const version = existsSync(versionFile) ? String(JSON.parse(readFileSync(versionFile, "utf8")).version) : "1";

/** key → { value, seq }: only dirty entries (acknowledged, not yet confirmed by the store). */
const dirty = new Map();
let seq = 0;
let stopping = false;

/** Sends every dirty entry in one batch; entries rewritten meanwhile stay dirty. */
async function flushOnce() {
  if (dirty.size === 0) return 0;
  const snapshot = [...dirty.entries()];
  const batch = Object.fromEntries(snapshot.map(([k, e]) => [k, e.value]));
  const res = await request("POST", `${storeUrl}/kv/_batch`, {
    body: JSON.stringify(batch),
    headers: { "content-type": "application/json" },
    timeoutMs: 8000,
  });
  if (res.status < 200 || res.status > 299) {
    throw new Error(`store answered ${res.status} to the batch: ${res.body.trim()}`);
  }
  for (const [k, e] of snapshot) if (dirty.get(k)?.seq === e.seq) dirty.delete(k);
  return snapshot.length;
}

// Flushes run one at a time; a flush queued after a request starts after it, so it covers every
// write acknowledged before that request.
let tail = Promise.resolve();
function enqueueFlush() {
  const p = tail.then(flushOnce);
  tail = p.catch(() => {});
  return p;
}

let backgroundQueued = false;
const timer = setInterval(() => {
  if (dirty.size === 0 || backgroundQueued) return;
  backgroundQueued = true;
  enqueueFlush()
    .then((n) => n > 0 && log(`background flush: ${n} keys`))
    .catch((err) => log(`background flush failed (will retry): ${err.message}`))
    .finally(() => (backgroundQueued = false));
}, flushIntervalMs);

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://engine");
  if (url.pathname === "/healthz" && req.method === "GET") {
    try {
      const r = await request("GET", `${storeUrl}/healthz`, { timeoutMs: 1000 });
      if (r.status !== 200) throw new Error(`store /healthz answered ${r.status}`);
      return reply(res, stopping ? 503 : 200, { ok: !stopping, dirty: dirty.size, store: "reachable" });
    } catch (err) {
      return reply(res, 503, { ok: false, dirty: dirty.size, store: err.message });
    }
  }
  if (url.pathname === "/version" && req.method === "GET")
    return reply(res, 200, { version, pid: process.pid });
  if (url.pathname === "/flush" && req.method === "POST") {
    const before = dirty.size;
    try {
      const flushed = await enqueueFlush();
      log(`flush requested: ${flushed} keys confirmed by the store`);
      return reply(res, 200, { flushed, dirtyBefore: before, dirty: dirty.size });
    } catch (err) {
      log(`flush requested and failed: ${err.message}`);
      return reply(res, 503, { error: "FLUSH_FAILED", message: err.message, dirty: dirty.size });
    }
  }

  const key = kvKey(url.pathname);
  if (key === undefined) return reply(res, 404, { error: "NOT_FOUND" });
  if (key === "") {
    if (req.method !== "GET") return reply(res, 405, { error: "METHOD_NOT_ALLOWED" });
    try {
      const r = await request("GET", `${storeUrl}/kv`);
      if (r.status !== 200) return reply(res, 502, { error: "STORE_ERROR", status: r.status });
      const all = JSON.parse(r.body);
      for (const [k, e] of dirty) all[k] = e.value;
      return reply(res, 200, all);
    } catch (err) {
      return reply(res, 502, { error: "STORE_UNREACHABLE", message: err.message });
    }
  }
  if (key.startsWith("_")) return reply(res, 400, { error: "RESERVED_KEY", key });

  if (req.method === "PUT") {
    if (stopping) return reply(res, 503, { error: "ENGINE_STOPPING" });
    let body;
    try {
      body = await readBody(req);
    } catch (err) {
      return reply(res, 413, { error: "BODY_TOO_LARGE", message: err.message });
    }
    dirty.set(key, { value: body.toString("utf8"), seq: ++seq });
    if (!url.searchParams.has("sync")) return reply(res, 202, { accepted: key });
    // Write-through: answer only once the store has the write on disk.
    try {
      await enqueueFlush();
      return reply(res, 200, { stored: key });
    } catch (err) {
      return reply(res, 503, { error: "STORE_UNREACHABLE", message: err.message, key });
    }
  }
  if (req.method === "GET") {
    const hit = dirty.get(key);
    if (hit) return reply(res, 200, hit.value);
    try {
      const r = await request("GET", `${storeUrl}/kv/${encodeURIComponent(key)}`);
      if (r.status === 200) return reply(res, 200, r.body);
      if (r.status === 404) return reply(res, 404, { error: "NO_SUCH_KEY", key });
      return reply(res, 502, { error: "STORE_ERROR", status: r.status });
    } catch (err) {
      return reply(res, 502, { error: "STORE_UNREACHABLE", message: err.message });
    }
  }
  return reply(res, 405, { error: "METHOD_NOT_ALLOWED" });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) reply(res, 500, { error: "INTERNAL", message: err.message });
    else res.destroy();
  });
});
server.on("error", (err) => {
  console.error(`engine: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => log(`listening on http://${host}:${port}, store ${storeUrl}`));

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: no longer accepting writes; ${dirty.size} dirty keys to flush`);
  clearInterval(timer);
  server.close();
  setTimeout(() => server.closeAllConnections(), 2000).unref();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await enqueueFlush();
      if (dirty.size === 0) break;
    } catch (err) {
      if (Date.now() > deadline) break;
      log(`final flush failed, retrying: ${err.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (dirty.size > 0) {
    log(`LOST ${dirty.size} acknowledged writes: the store did not confirm them`);
    process.exit(1);
  }
  log("everything flushed; bye");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
