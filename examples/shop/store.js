#!/usr/bin/env node
// The shop's persistent key-value store: an append-only log, fsynced before every acknowledgement.
//
//   node store.js [--data DIR] [--port P] [--host H]    serve the HTTP API
//   node store.js --repair [--data DIR]                 truncate a torn last record, then exit 0
//
// Log format (DIR/store.log): one record per line, `<crc32 as 8 hex digits> <json>\n`, where json is
// `{"k":key,"v":value}` (one PUT) or `{"b":{key:value,...}}` (one batch, applied all or nothing).
// A crash in the middle of an append leaves a *torn* last record (no newline, or a bad checksum):
// replay ignores it and reports it; `--repair` (the topology's `recover` hook) truncates it.
// A bad record anywhere else is corruption: the store refuses to start rather than guess.
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { kvKey, logger, parseArgs, readBody, reply } from "./lib.js";

const log = logger("store");
const LOG_NAME = "store.log";

let opts;
try {
  opts = parseArgs(process.argv.slice(2), { data: "./data", port: "7001", host: "127.0.0.1", repair: false });
} catch (err) {
  console.error(`store: ${err.message}`);
  process.exit(2);
}
const dataDir = path.resolve(opts.data);
const logPath = path.join(dataDir, LOG_NAME);

function encode(record) {
  const json = JSON.stringify(record);
  const crc = zlib.crc32(json).toString(16).padStart(8, "0");
  return `${crc} ${json}\n`;
}

function decode(line) {
  if (line.length < 10 || line[8] !== " ") return undefined;
  const json = line.slice(9);
  if (zlib.crc32(json).toString(16).padStart(8, "0") !== line.slice(0, 8)) return undefined;
  try {
    const rec = JSON.parse(json);
    if (typeof rec?.k === "string" && typeof rec.v === "string") return rec;
    if (rec?.b && typeof rec.b === "object" && !Array.isArray(rec.b)) return rec;
  } catch {
    // fall through: not a record
  }
  return undefined;
}

function apply(map, rec) {
  if (rec.b) for (const [k, v] of Object.entries(rec.b)) map.set(k, v);
  else map.set(rec.k, rec.v);
}

/**
 * Reads the whole log. Returns the map, the number of records, the byte offset where the valid
 * records end and, if the last record is torn, its size. Throws on corruption before the tail.
 */
function replay(file) {
  const map = new Map();
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if (err.code === "ENOENT") return { map, records: 0, goodBytes: 0, tornBytes: 0, missing: true };
    throw err;
  }
  let offset = 0;
  let records = 0;
  while (offset < buf.length) {
    const nl = buf.indexOf(0x0a, offset);
    if (nl === -1) break; // unterminated tail: torn
    const rec = decode(buf.toString("utf8", offset, nl));
    if (!rec) {
      if (nl + 1 < buf.length) {
        throw new Error(
          `${file}: record ${records + 1} at byte ${offset} is corrupt and is not the last one; ` +
            `refusing to guess (move the file aside or restore it from the archive)`,
        );
      }
      break; // a bad checksum on the very last line: torn
    }
    apply(map, rec);
    records++;
    offset = nl + 1;
  }
  return { map, records, goodBytes: offset, tornBytes: buf.length - offset, missing: false };
}

/** Copies the torn bytes aside (nothing is destroyed silently), truncates the log and fsyncs it. */
function truncateTorn(file, goodBytes, tornBytes) {
  const aside = `${file}.torn-${Date.now()}`;
  const buf = fs.readFileSync(file);
  fs.writeFileSync(aside, buf.subarray(goodBytes));
  const fd = fs.openSync(file, "r+");
  try {
    fs.ftruncateSync(fd, goodBytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return `truncated a torn last record of ${tornBytes} bytes at byte ${goodBytes} of ${file} (bytes saved to ${aside})`;
}

function fsyncDir(dir) {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// --repair: the recover hook.
if (opts.repair) {
  try {
    const r = replay(logPath);
    if (r.missing) console.log(`store --repair: no log at ${logPath}; nothing to do`);
    else if (r.tornBytes === 0) console.log(`store --repair: ${logPath} is clean (${r.records} records)`);
    else
      console.log(
        `store --repair: ${truncateTorn(logPath, r.goodBytes, r.tornBytes)}; ${r.records} records kept`,
      );
    process.exit(0);
  } catch (err) {
    console.error(`store --repair: ${err.message}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
// Serve.
fs.mkdirSync(dataDir, { recursive: true });
let state;
try {
  state = replay(logPath);
} catch (err) {
  console.error(`store: cannot start: ${err.message}`);
  process.exit(1);
}
const kv = state.map;
if (state.tornBytes > 0) {
  // Appending after a torn record would glue the next record to it, so cut it off now.
  log(`ignored the torn last record of the log: ${truncateTorn(logPath, state.goodBytes, state.tornBytes)}`);
}
const fh = await fsp.open(logPath, "a");
if (state.missing) fsyncDir(dataDir); // make the new file's directory entry durable
log(`replayed ${state.records} records (${kv.size} keys) from ${logPath}`);

// Group commit: records queued while an fsync is running are written together with one fsync.
let queue = [];
let writing = null;
let broken = false;

function append(record) {
  if (broken) return Promise.reject(new Error("the log is in an unknown state after a write error"));
  return new Promise((resolve, reject) => {
    queue.push({ record, line: encode(record), resolve, reject });
    if (!writing) writing = writeLoop();
  });
}

async function writeLoop() {
  try {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const buf = Buffer.from(batch.map((e) => e.line).join(""));
        let done = 0;
        while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
        await fh.sync();
      } catch (err) {
        // The file may now end in a partial record: stop writing; a restart replays and repairs it.
        broken = true;
        log(`write failed, refusing further writes and exiting: ${err.message}`);
        for (const e of [...batch, ...queue]) e.reject(err);
        queue = [];
        setTimeout(() => process.exit(1), 100);
        return;
      }
      for (const e of batch) {
        apply(kv, e.record); // visible to readers only once durable
        e.resolve();
      }
    }
  } finally {
    writing = null; // runs right after the last queue check, so no append can be stranded
  }
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://store");
  if (url.pathname === "/healthz") {
    return reply(res, broken ? 503 : 200, { ok: !broken, keys: kv.size });
  }
  const key = kvKey(url.pathname);
  if (key === undefined) return reply(res, 404, { error: "NOT_FOUND" });

  if (key === "" && req.method === "GET") return reply(res, 200, Object.fromEntries(kv));
  if (key === "_batch" && req.method === "POST") {
    let batch;
    try {
      batch = JSON.parse((await readBody(req)).toString("utf8"));
    } catch (err) {
      return reply(res, err.code === "BODY_TOO_LARGE" ? 413 : 400, {
        error: "BAD_BATCH",
        message: err.message,
      });
    }
    if (!batch || typeof batch !== "object" || Array.isArray(batch)) {
      return reply(res, 400, { error: "BAD_BATCH", message: "expected a JSON object of key: string value" });
    }
    for (const [k, v] of Object.entries(batch)) {
      if (k === "" || typeof v !== "string") {
        return reply(res, 400, {
          error: "BAD_BATCH",
          message: `key ${JSON.stringify(k)}: value must be a string`,
        });
      }
    }
    if (Object.keys(batch).length > 0) await append({ b: batch });
    return reply(res, 204);
  }
  if (key === "" || key === "_batch") return reply(res, 405, { error: "METHOD_NOT_ALLOWED" });

  if (req.method === "GET") {
    return kv.has(key) ? reply(res, 200, kv.get(key)) : reply(res, 404, { error: "NO_SUCH_KEY", key });
  }
  if (req.method === "PUT") {
    let body;
    try {
      body = await readBody(req);
    } catch (err) {
      return reply(res, 413, { error: "BODY_TOO_LARGE", message: err.message });
    }
    await append({ k: key, v: body.toString("utf8") });
    return reply(res, 204);
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
  console.error(`store: ${err.message}`);
  process.exit(1);
});
server.listen(Number(opts.port), opts.host, () => log(`listening on http://${opts.host}:${opts.port}`));

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: closing the server, finishing pending writes`);
  const force = setTimeout(() => server.closeAllConnections(), 5000);
  await new Promise((resolve) => server.close(() => resolve()));
  clearTimeout(force);
  while (writing) await writing;
  await fh.close();
  log("stopped cleanly");
  process.exit(broken ? 1 : 0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
