#!/usr/bin/env node
// The crash campaign (issue 10 §4): seeded random SIGKILLs of the daemon in the middle of `up`,
// `stop`, `restart` (rolling surge, rolling in place, with dependants), `maintenance on/off`, job
// runs, `daemon restart` and every cutover step, on copies of the shop example, while an
// independent writer records every acknowledged write. After each kill and recovery it checks that
// no acknowledged write is lost, no replica slot runs twice, no orphan is left, the interrupted
// operation reached its end state and the instance count rose as the record said (see
// bench/lib/crash-campaign/). Writes bench/results/crash-campaign-<date>.{md,json}; exits 1 on any failure.
//
//   node bench/crash-campaign.mjs [--kills 100] [--seed S] [--only <kind>[,<kind>…]] [--replay <i>] [--tag T] [--keep]
//
// --tag T names the results crash-campaign-<date>-T. --replay i runs kill #i of the plan that --seed/--kills/--only make, alone on a fresh shop.
// STEWARD_CLI=<path of bin/steward.js> runs another build of Steward.
import { performance } from "node:perf_hooks";
import { saveResults, stewardCli, stewardMissing, versions } from "./lib/common.mjs";
import { runCampaign } from "./lib/crash-campaign/campaign.mjs";
import { KIND_NAMES } from "./lib/crash-campaign/kinds.mjs";
import { parseSeed } from "./lib/crash-campaign/plan.mjs";
import { score, scorecardMarkdown } from "./lib/crash-campaign/scorecard.mjs";

const usage = `usage: node bench/crash-campaign.mjs [--kills N] [--seed S] [--only KIND[,KIND…]] [--replay I] [--tag T] [--keep]
kinds: ${KIND_NAMES.join(", ")}`;
const opts = { kills: 100, seed: undefined, only: undefined, replay: undefined, tag: undefined, keep: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const a = argv[i];
  if (a === "--keep") opts.keep = true;
  else if (a === "--help" || a === "-h") {
    console.log(usage);
    process.exit(0);
  } else if (["--kills", "--seed", "--only", "--replay", "--tag"].includes(a) && argv[i + 1] !== undefined)
    opts[a.slice(2)] = argv[++i];
  else {
    console.error(`unknown argument \`${a}\`\n${usage}`);
    process.exit(2);
  }
}
let seed;
const kills = Number(opts.kills);
const replay = opts.replay === undefined ? undefined : Number(opts.replay);
const kinds = opts.only?.split(",").filter(Boolean);
try {
  seed = parseSeed(opts.seed);
  if (!Number.isInteger(kills) || kills < 1)
    throw new Error(`--kills must be a whole number ≥ 1, got \`${opts.kills}\``);
  if (replay !== undefined && (!Number.isInteger(replay) || replay < 1 || replay > kills))
    throw new Error(`--replay must be a kill number in 1..${kills}, got \`${opts.replay}\``);
  for (const k of kinds ?? [])
    if (!KIND_NAMES.includes(k))
      throw new Error(`--only: unknown kind \`${k}\` (one of ${KIND_NAMES.join(", ")})`);
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const missingBuild = stewardMissing();
if (missingBuild) {
  console.error(missingBuild);
  process.exit(2);
}

const replayBase = `node bench/crash-campaign.mjs --seed ${seed} --kills ${kills}${kinds ? ` --only ${kinds.join(",")}` : ""}`;
console.log(
  `crash campaign: seed ${seed}, ${replay ? `kill #${replay} of ${kills}` : `${kills} kills`} (${replayBase})`,
);
const t0 = performance.now();
const date = new Date().toISOString().slice(0, 10);
const command = `node bench/crash-campaign.mjs ${argv.join(" ")}`.trim();
/** Writes the scorecard of what ran so far (after every shop, so an interrupted campaign leaves one). */
function save(result) {
  result.replayBase = replayBase;
  const seconds = (performance.now() - t0) / 1000;
  const s = score(result);
  const md = scorecardMarkdown(result, s, { date, command, seconds });
  const file = saveResults(
    `crash-campaign-${date}${opts.tag ? `-${opts.tag}` : ""}${replay ? `-replay-${replay}` : ""}`,
    md,
    {
      date,
      command,
      seconds: Math.round(seconds),
      versions: versions(),
      score: s,
      ...result,
    },
  );
  return { s, md, file };
}
const result = await runCampaign({
  seed,
  kills,
  kinds,
  replay,
  keep: opts.keep,
  cli: stewardCli(),
  onSession: save,
});
const { s, md, file } = save(result);
console.log(`\n${md}\nwritten to ${file}.md and .json`);
process.exit(s.failed > 0 || s.lostWrites > 0 || s.sessionsFailed > 0 ? 1 : 0);
