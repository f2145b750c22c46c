/**
 * The differential fuzzer's short seeded run (docs/security.md): requests and responses, hostile
 * ones included, through the real edge; every case refused, or framed by llhttp identically on both
 * sides. Replay a run with `EDGE_FUZZ_SEED=<seed> [EDGE_FUZZ_RUNS=<n>] npx vitest run test/edge/fuzz`;
 * the long run is `node bench/edge-fuzz.mjs --runs N --seed S`.
 */
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup } from "../helpers.js";
import { fuzz, startBench } from "./run.js";

afterAll(cleanup);

const seed = Number(process.env.EDGE_FUZZ_SEED ?? 20261205);
const runs = Number(process.env.EDGE_FUZZ_RUNS ?? 150);

describe("differential fuzzing of the edge", () => {
  it(
    `refuses or frames like llhttp: ${runs} requests and ${runs} responses, seed ${seed}`,
    { timeout: 60_000 + runs * 400 },
    async () => {
      const bench = await startBench();
      console.log(`edge fuzz: seed ${seed}, ${runs} runs per direction (replay: EDGE_FUZZ_SEED=${seed})`);
      const report = await fuzz(bench, seed, runs, (line) => console.log(`edge fuzz: ${line}`));
      if (process.env.EDGE_FUZZ_REPORT)
        fs.writeFileSync(process.env.EDGE_FUZZ_REPORT, JSON.stringify(report, null, 2));
      for (const f of report.findings.slice(0, 10))
        console.log(
          `edge fuzz finding (${f.direction}): ${f.payload}\n  ${f.problems.join("\n  ")}\n  answer: ${JSON.stringify(f.answer)}`,
        );
      expect(report.findings.map((f) => `${f.direction} ${f.payload}: ${f.problems[0]}`)).toEqual([]);
    },
  );
});
