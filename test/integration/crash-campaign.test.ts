/**
 * The crash campaign's seeded subset (issue 10 §4; the full campaign is `bench/crash-campaign.mjs`,
 * same code): daemon SIGKILLs in the middle of operations on copies of the shop while an
 * independent writer records every acknowledged write. The 12 kinds — `up`, `stop`, rolling
 * restarts (surge and in place), a restart with dependants, `maintenance on/off`, a job run,
 * `daemon restart` and cutover steps — are split in 3 parts of 4 (each with a cutover step and a
 * restart); the seed picks the part (`seed % 3`), so three runs in a row interrupt every kind. After
 * each kill and recovery: no acknowledged write lost (in the store through the API, and in its data
 * file after `down`), no replica slot twice and no orphan in /proc, the interrupted operation ended
 * in the journal, the application in its end state, the instance count as the record said.
 *
 * The seed is printed; replay with `STEWARD_CRASH_SEED=<seed> npx vitest run
 * test/integration/crash-campaign.test.ts`, or one kill with the `--replay` command in the failure.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCampaign } from "../../bench/lib/crash-campaign/campaign.mjs";
import { parseSeed, rotation } from "../../bench/lib/crash-campaign/plan.mjs";
import { score } from "../../bench/lib/crash-campaign/scorecard.mjs";

const SEED = parseSeed(process.env.STEWARD_CRASH_SEED, "STEWARD_CRASH_SEED");
const CLI = process.env.STEWARD_CLI ?? fileURLToPath(new URL("../../bin/steward.js", import.meta.url));
const ALL_KINDS = [
  "up",
  "stop",
  "restart-rolling",
  "restart-in-place",
  "restart-with-dependants",
  "maintenance-on",
  "maintenance-off",
  "job-run",
  "daemon-restart",
  "cutover-start-new",
  "cutover-switch",
  "cutover-swap-links",
];
const KINDS = rotation(ALL_KINDS, SEED, 3);

describe(`crash campaign, seeded subset (seed ${SEED})`, () => {
  it("three seeds in a row interrupt every kind; each part has a cutover step and a restart", () => {
    const parts = [0, 1, 2].map((d) => rotation(ALL_KINDS, SEED + d, 3));
    expect(parts.flat().sort()).toEqual([...ALL_KINDS].sort());
    for (const part of parts) {
      expect(
        part.some((k) => k.startsWith("cutover-")),
        part.join(", "),
      ).toBe(true);
      expect(
        part.some((k) => k.startsWith("restart-")),
        part.join(", "),
      ).toBe(true);
    }
  });

  it(`${KINDS.length} daemon SIGKILLs (${KINDS.join(", ")}): nothing acknowledged lost, nothing twice, nothing orphaned`, async () => {
    console.log(`crash campaign seed ${SEED} (replay: STEWARD_CRASH_SEED=${SEED})`);
    const lines: string[] = [];
    const result = await runCampaign({
      seed: SEED,
      kills: KINDS.length,
      kinds: KINDS,
      cli: path.resolve(CLI),
      log: (line) => lines.push(line),
    });
    const replayBase = `node bench/crash-campaign.mjs --seed ${SEED} --kills ${KINDS.length} --only ${KINDS.join(",")}`;
    const s = score(result);
    const failures = result.kills
      .filter((k) => k.problems.length > 0)
      .map(
        (k) =>
          `#${k.index} ${k.kind} (+${k.delay} ms, ${k.recover}; replay: ${replayBase} --replay ${k.index}):\n  ` +
          `${k.problems.join("\n  ")}\n--- daemon.log ---\n${k.daemonLog ?? ""}`,
      );
    const report = `[seed ${SEED}]\n${lines.join("\n")}`;
    expect(failures, report).toEqual([]);
    expect(s.kills, report).toBe(KINDS.length);
    expect(new Set(result.kills.map((k) => k.kind)), report).toEqual(new Set(KINDS));
    expect(s.lostWrites, report).toBe(0);
    expect(s.duplicates, report).toBe(0);
    expect(s.orphans, report).toBe(0);
    expect(
      result.sessions.map((x) => x.lostAtEnd),
      report,
    ).toEqual(result.sessions.map(() => 0));
    expect(s.ackedWrites, "the writer had writes acknowledged").toBeGreaterThan(0);
  }, 600_000);
});
