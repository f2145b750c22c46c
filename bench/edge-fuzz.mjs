#!/usr/bin/env node
// The edge's differential fuzzer, long run (see test/edge/fuzz/): requests and responses, hostile
// ones included, through the real edge on loopback; each must be refused or framed by llhttp
// identically on both sides. Prints the figures and every finding (a payload to add to the corpus).
//
//   node bench/edge-fuzz.mjs [--runs 2000] [--seed <n>]     (a random seed unless given)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log("usage: node bench/edge-fuzz.mjs [--runs N] [--seed S]");
  process.exit(0);
}
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const runs = opt("--runs", 2000);
const seed = opt("--seed", Math.floor(Math.random() * 2 ** 31));
const report = path.join(os.tmpdir(), `edge-fuzz-${process.pid}.json`);
console.log(`edge fuzz: ${runs} requests and ${runs} responses, seed ${seed}`);
const started = Date.now();
const r = spawnSync("npx", ["vitest", "run", "test/edge/fuzz/fuzz.test.ts"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: {
    ...process.env,
    EDGE_FUZZ_RUNS: String(runs),
    EDGE_FUZZ_SEED: String(seed),
    EDGE_FUZZ_REPORT: report,
  },
  encoding: "utf8",
});
if (!fs.existsSync(report)) {
  console.log(r.stdout);
  console.error("edge fuzz: the run did not finish");
  process.exit(2);
}
const out = JSON.parse(fs.readFileSync(report, "utf8"));
fs.rmSync(report);
const s = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `edge fuzz: ${out.requests} request cases, ${out.responses} response cases, seed ${out.seed}, ${s} s`,
);
console.log(`edge fuzz: ${out.findings.length} finding(s)`);
for (const f of out.findings) {
  console.log(
    `\n[${f.direction}] ${f.payload}\n  ${f.problems.join("\n  ")}\n  client got: ${JSON.stringify(f.answer)}`,
  );
}
console.log(
  `\nreplay: EDGE_FUZZ_SEED=${out.seed} EDGE_FUZZ_RUNS=${runs} npx vitest run test/edge/fuzz/fuzz.test.ts`,
);
process.exit(out.findings.length === 0 ? 0 : 1);
