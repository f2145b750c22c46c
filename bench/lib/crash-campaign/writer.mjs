#!/usr/bin/env node
// @module bench/lib/crash-campaign/writer
// The crash campaign's independent writer: a client outside Steward (no STEWARD_* marker in its
// environment) that writes unique keys through the shop's API and records every write that got a
// success answer — its own ledger, the list the store must never lose.
//
//   node writer.mjs --targets http://127.0.0.1:7080[,…] --ledger FILE --prefix w [--loops 2] [--pause-ms 25]
//
// Each loop writes `<prefix>-<loop>-<n>` = `v<n>.<random>`: even n with `PUT /kv/<key>` (write-back,
// acknowledged 202 before it is durable: the shop's drain hook and SIGTERM flush must save it), odd
// n with `PUT /kv/<key>?sync` (200 only once the store fsynced it). A line `<key> <value>` is
// appended to the ledger (and fsynced) only after a 2xx answer. Failures (the edge is down with
// its daemon, a replica stopping) are counted, never retried under the same key. SIGTERM: finishes
// the writes in flight, prints a JSON summary on stdout and exits 0.
import fs from "node:fs";
import http from "node:http";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const targets = String(args.targets ?? "")
  .split(",")
  .filter(Boolean)
  .map((u) => new URL(u));
if (targets.length === 0 || !args.ledger) {
  console.error(
    "usage: writer.mjs --targets URL[,URL…] --ledger FILE --prefix P [--loops N] [--pause-ms MS]",
  );
  process.exit(2);
}
const prefix = args.prefix ?? "w";
const loops = Number(args.loops ?? 2);
const pauseMs = Number(args["pause-ms"] ?? 25);
const ledger = fs.openSync(args.ledger, "a");
const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
const counts = { acked: 0, failed: 0, byStatus: {} };
let stopping = false;

function put(target, key, value, sync) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: "PUT",
        path: `/kv/${encodeURIComponent(key)}${sync ? "?sync" : ""}`,
        agent,
        headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(value) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(0));
    req.end(value);
  });
}

async function loop(id) {
  let n = 0;
  let t = id;
  while (!stopping) {
    n += 1;
    const key = `${prefix}-${id}-${n}`;
    const value = `v${n}.${Math.random().toString(36).slice(2, 10)}`;
    const target = targets[t++ % targets.length];
    const status = await put(target, key, value, n % 2 === 1);
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    if (status >= 200 && status < 300) {
      fs.writeSync(ledger, `${key} ${value}\n`);
      fs.fsyncSync(ledger);
      counts.acked += 1;
    } else {
      counts.failed += 1;
      await new Promise((r) => setTimeout(r, 50)); // the daemon may be down: do not spin
    }
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

const running = Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
process.on("SIGTERM", () => {
  stopping = true;
  void running.then(() => {
    fs.closeSync(ledger);
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    process.exit(0);
  });
});
