#!/usr/bin/env node
// Checks the shop's promise: every write the scheduler saw acknowledged (the ack ledger) is in the
// store. Prints what is missing and exits 1 if anything is. It first asks the running engines to
// flush (their write-back caches hold the last ~2 s of acknowledged writes); `--no-flush` skips that.
//
//   node verify.js [--ledger .steward/data/acked.txt] [--store http://127.0.0.1:7001]
//                  [--engines http://127.0.0.1:7100,http://127.0.0.1:7101] [--no-flush]
// Defaults follow steward.yaml (ledger under ./.steward beside this file, SHOP_STORE_PORT,
// SHOP_ENGINE_PORT_PREFIX).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, request } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));
let opts;
try {
  opts = parseArgs(process.argv.slice(2), {
    ledger: path.join(here, ".steward", "data", "acked.txt"),
    store: `http://127.0.0.1:${process.env.SHOP_STORE_PORT || 7001}`,
    engines: [0, 1]
      .map((i) => `http://127.0.0.1:${process.env.SHOP_ENGINE_PORT_PREFIX || 710}${i}`)
      .join(","),
    "no-flush": false,
  });
} catch (err) {
  console.error(`verify: ${err.message}`);
  process.exit(2);
}
let acked;
try {
  acked = fs.readFileSync(opts.ledger, "utf8").split("\n").filter(Boolean);
} catch (err) {
  console.error(`verify: cannot read the ack ledger: ${err.message}`);
  process.exit(2);
}
if (!opts["no-flush"]) {
  for (const base of opts.engines.split(",").filter(Boolean)) {
    try {
      const res = await request("POST", `${base.replace(/\/+$/, "")}/flush`, { timeoutMs: 10_000 });
      console.log(`flushed ${base}: ${res.status} ${res.body.trim()}`);
    } catch (err) {
      console.log(`not flushed ${base} (${err.code ?? err.message}); fine if that engine is stopped`);
    }
  }
}
let all;
try {
  const res = await request("GET", `${opts.store.replace(/\/+$/, "")}/kv`);
  if (res.status !== 200) throw new Error(`store answered ${res.status}`);
  all = JSON.parse(res.body);
} catch (err) {
  console.error(`verify: cannot read the store: ${err.message}`);
  process.exit(2);
}
const missing = acked.filter((k) => !(k in all));
console.log(
  `${acked.length} acknowledged writes in the ledger, ${Object.keys(all).length} keys in the store`,
);
if (missing.length === 0) {
  console.log("OK: every acknowledged write is in the store");
  process.exit(0);
}
console.log(
  `LOST ${missing.length} acknowledged writes: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}`,
);
process.exit(1);
