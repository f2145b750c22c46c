// @module bench/lib/crash-campaign/campaign
// The crash campaign (issue 10 §4): seeded SIGKILLs of the daemon in the middle of operations on the
// shop, with an independent writer running all along; after each kill and recovery the checks of
// checks.mjs. Used by bench/crash-campaign.mjs (the full run) and test/integration/crash-campaign.test.ts.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  alive,
  expectedBoot,
  journal,
  lostWrites,
  missing,
  processProblems,
  readLedger,
  replayStoreLog,
  snapshot,
} from "./checks.mjs";
import { KINDS, patchOutcome } from "./kinds.mjs";
import { makePlan, recoverLabel } from "./plan.mjs";
import {
  bootDaemon,
  createShop,
  daemonLogTail,
  daemonPid,
  must,
  run,
  sleep,
  start,
  status,
  waitFor,
} from "./shop.mjs";

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), "writer.mjs");
const REPLICAS = { store: 1, engine: 2, scheduler: 1, archiver: 1 };

function startWriter(shop) {
  const ledger = path.join(shop.tmp, "acked.txt");
  const child = spawn(
    process.execPath,
    [WRITER, "--targets", shop.targets.join(","), "--ledger", ledger, "--prefix", "w", "--loops", "2"],
    { env: shop.env, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  return {
    ledger,
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      try {
        return JSON.parse(out.trim());
      } catch {
        return undefined;
      }
    },
  };
}

/** SIGKILL `pid`; waits until it is gone. */
async function sigkill(pid) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
  await waitFor(`pid ${pid} to die`, () => !alive(pid), 10_000, 5);
}

/** States per component now, as `name: state,state`. */
const describe = (doc) =>
  doc.components
    .map(
      (c) =>
        `${c.name}: ${c.replicas.map((r) => `${r.state}${r.reason ? ` (${r.reason})` : ""}`).join(", ")}`,
    )
    .join("; ");

/** Whether `doc` shows every component in its expected state (`ready`, `offline`, `stopped` = no process). */
function matches(doc, want) {
  return Object.entries(want).every(([name, state]) => {
    const c = doc.components.find((x) => x.name === name);
    if (!c) return false;
    if (state === "stopped")
      return c.replicas.every((r) => r.pid === null && !["ready", "running", "starting"].includes(r.state));
    return c.replicas.length === REPLICAS[name] && c.replicas.every((r) => r.state === state);
  });
}

/**
 * One kill: bring the shop to the kind's starting point, start the command, SIGKILL the daemon
 * `delay` ms after the anchor, recover, check. Returns the kill's record (problems empty = passed).
 */
async function oneKill(shop, writer, kill) {
  const spec = KINDS[kill.kind];
  const rec = {
    index: kill.index,
    kind: kill.kind,
    variant: kill.variant,
    delay: kill.delay,
    recover: recoverLabel(kill.recover),
    problems: [],
  };
  const problem = (text) => rec.problems.push(text);
  if (spec.setup) await spec.setup(shop);
  const cmd = start(shop, spec.args(shop));
  const anchored = await spec.anchor(shop, cmd, kill.rng);
  await sleep(kill.delay);
  let victim = anchored.victim ?? daemonPid(shop);
  rec.victim = anchored.victimNote ?? "daemon";
  if (anchored.victim !== undefined && !alive(victim)) {
    // The old daemon had handed over already: the kill goes to the one running now.
    // daemon.pid may be missing for a moment, between the old daemon's exit and the new one's lock.
    const old = anchored.victim;
    victim = await waitFor(
      "the new daemon",
      () => {
        const p = daemonPid(shop);
        return p !== undefined && p !== old && alive(p) ? p : undefined;
      },
      30_000,
      3,
    ).catch(() => undefined);
    rec.victim = "new daemon (the old one had exited)";
  }
  if (victim === undefined || !alive(victim)) problem(`no daemon to kill (pid ${victim})`);
  const killedAt = Date.now();
  if (victim !== undefined) await sigkill(victim);
  if (anchored.also)
    await waitFor("the old daemon to exit", () => !alive(anchored.also), 30_000, 20).catch(() =>
      problem(`the old daemon ${anchored.also} did not exit after the new one was killed`),
    );
  const snap = snapshot(shop);
  const interrupted = snap.ops.filter((o) => o.status === "running");
  const runningRuns = snap.runs.filter((r) => r.state === "running").map((r) => r.id);
  const landed = [...interrupted.map((o) => o.kind), ...runningRuns.map(() => "job run")];
  rec.landed = landed.length > 0 ? `mid ${landed.join("+")}` : "between operations";
  rec.step = spec.step
    ? snap.steps.filter((s) => interrupted.some((o) => o.id === s.operation_id)).at(-1)?.name
    : undefined;

  const cli = await Promise.race([cmd.done, sleep(60_000).then(() => undefined)]);
  if (cli === undefined) {
    problem(`the interrupted \`steward ${spec.args(shop).join(" ")}\` still runs 60 s after the kill`);
    cmd.child.kill("SIGKILL");
  }

  // Recovery: timed from the spawn of what boots the next daemon to a status that is not recovering.
  let recovering;
  const t0 = Date.now();
  const already = daemonPid(shop);
  if (already !== undefined && already !== victim && alive(already)) {
    rec.recover = "the interrupted command started a daemon itself";
  } else if (kill.recover === "daemon") bootDaemon(shop);
  else recovering = start(shop, kill.recover);
  const active = await waitFor(
    "the daemon to be active",
    async () => (await status(shop)).daemon.state === "active",
    120_000,
    25,
  ).catch((err) => {
    problem(err.message);
    return false;
  });
  if (active && rec.recover !== "the interrupted command started a daemon itself")
    rec.recoveryMs = Date.now() - t0;
  if (recovering) {
    const r = await recovering.done;
    if (r.code !== 0) problem(`${rec.recover} after the kill exited ${r.code}: ${r.out.slice(-600)}`);
  }

  // The interrupted operations end; the application reaches the kind's end state.
  let outcome;
  if (spec.step) {
    outcome = (await patchOutcome(shop).catch((err) => (problem(err.message), undefined)))?.status;
    rec.session = outcome;
    if (outcome && spec.session !== outcome)
      problem(`the patch session ended ${outcome}, expected ${spec.session} after a kill at ${spec.step}`);
    if (outcome === "completed") shop.version = shop.pending;
  }
  const want = spec.end(shop);
  let doc;
  try {
    doc = await waitFor(
      `${Object.entries(want)
        .map(([c, s]) => `${c} ${s}`)
        .join(", ")} and no operation running`,
      async () => {
        const d = await status(shop);
        const running = journal(shop).ops.filter((o) => o.status === "running");
        return d.daemon.state === "active" && running.length === 0 && matches(d, want) ? d : undefined;
      },
      90_000,
      100,
    );
  } catch (err) {
    const d = await status(shop).catch(() => undefined);
    problem(`${err.message}; found ${d ? describe(d) : "no status"}`);
    doc = d;
  }
  const { ops, runs } = journal(shop);
  for (const o of interrupted) {
    const now = ops.find((x) => x.id === o.id);
    const ok = now?.status === "done" || (o.kind === "cutover" && now?.status === "failed");
    if (!ok)
      problem(`interrupted ${o.kind} ${o.id} is ${now?.status ?? "gone"} (${now?.error ?? ""}), not done`);
  }
  if (doc) {
    const boot = expectedBoot(snap);
    rec.boot = `${doc.daemon.bootKind} ${doc.daemon.instance}`;
    // A daemon restart killed mid-handover: the next daemon may have read the record before the
    // snapshot (handover, same count) or after (recovered, +1); either is consistent.
    const i = snap.daemon?.instance;
    const handoverRace =
      kill.kind === "daemon-restart" &&
      ["active", "handover"].includes(snap.daemon?.state) &&
      ((doc.daemon.bootKind === "handover" && doc.daemon.instance === i) ||
        (doc.daemon.bootKind === "recovered" && doc.daemon.instance === i + 1));
    if (!handoverRace && (doc.daemon.instance !== boot.instance || doc.daemon.bootKind !== boot.bootKind))
      problem(
        `boot ${doc.daemon.bootKind}, instance ${doc.daemon.instance}; expected ${boot.bootKind}, instance ${boot.instance} (record at the kill: ${JSON.stringify(snap.daemon)})`,
      );
  }
  // Job runs: none left running, none ran twice.
  await waitFor(
    "job runs to end",
    () => journal(shop).runs.every((r) => r.state !== "running"),
    30_000,
    100,
  ).catch(() =>
    problem(
      `job runs still running: ${journal(shop)
        .runs.filter((r) => r.state === "running")
        .map((r) => r.id)
        .join(", ")}`,
    ),
  );
  const jobLines = fs.existsSync(shop.jobLog)
    ? fs.readFileSync(shop.jobLog, "utf8").split("\n").filter(Boolean)
    : [];
  for (const id of runningRuns) {
    const starts = jobLines.filter((l) => l.startsWith(`start ${id} `)).length;
    if (starts !== 1) problem(`job run ${id} started ${starts} times`);
  }
  rec.jobRuns = runs.length;

  // Processes: no orphan, no slot twice (hooks and drains may still be ending: let them settle).
  let procs = { orphans: [], duplicates: [] };
  if (doc) {
    const settled = await waitFor(
      "no orphan and no duplicate",
      async () => {
        procs = processProblems(shop, await status(shop), (c) => REPLICAS[c] ?? 1);
        return procs.orphans.length === 0 && procs.duplicates.length === 0;
      },
      20_000,
      200,
    ).catch(() => false);
    if (!settled) {
      for (const o of procs.orphans) problem(`orphan: ${o}`);
      for (const d of procs.duplicates) problem(`duplicate: ${d}`);
    }
  }
  rec.orphans = procs.orphans.length;
  rec.duplicates = procs.duplicates.length;

  // Every acknowledged write is in the store (only when the engines run).
  if (doc && want.engine === "ready") {
    try {
      const w = await lostWrites(shop, await status(shop), writer.ledger);
      rec.acked = w.acked;
      rec.lost = w.lost.length;
      if (w.lost.length > 0)
        problem(`${w.lost.length} acknowledged writes lost: ${w.lost.slice(0, 5).join(", ")}`);
    } catch (err) {
      problem(`reading the store: ${err.message}`);
    }
  }
  const v = await run(shop, ["verify"]);
  if (v.code !== 0) problem(`steward verify exited ${v.code}: ${v.out.slice(-600)}`);
  rec.killedAt = killedAt;
  if (rec.problems.length > 0) rec.daemonLog = daemonLogTail(shop, 60);

  if (spec.restore) await spec.restore(shop, outcome);
  if (rec.problems.length > 0) await repair(shop);
  if (spec.restore || rec.problems.length > 0) await must(shop, ["up"]);
  return rec;
}

/** After a failed kill: whatever it left (maintenance on, an open patch cycle), undone for the next one. */
async function repair(shop) {
  await run(shop, ["maintenance", "off"]);
  const r = await run(shop, ["patch", "status", "--json"]);
  if (r.code === 0 && JSON.parse(r.out).open) await run(shop, ["patch", "abort"]);
}

/**
 * Runs the campaign. Options: seed, kills, kinds (names), replay (a kill index: that kill alone),
 * keep (keep the directories), cli (path of bin/steward.js), log (a line printer), perSession.
 * Returns `{ seed, kills: [records], sessions: [{ variant, acked, lostAtEnd, writer }] }`.
 */
export async function runCampaign({
  seed,
  kills,
  kinds,
  replay,
  keep = false,
  cli,
  log = console.log,
  perSession,
  onSession = () => {},
}) {
  const plan = makePlan({ seed, kills, kinds, perSession });
  const sessions = replay
    ? [{ variant: plan.kills[replay - 1].variant, kills: [plan.kills[replay - 1]] }]
    : plan.sessions;
  const result = { seed, kills: [], sessions: [] };
  for (const session of sessions) {
    const shop = await createShop({ variant: session.variant, cli });
    shop.version = "1";
    log(`session ${session.variant} (${session.kills.length} kills) in ${shop.tmp}`);
    const summary = { variant: session.variant, dir: shop.tmp };
    let writer;
    let failed = false;
    try {
      await must(shop, ["up"]);
      writer = startWriter(shop);
      await sleep(1000);
      for (const kill of session.kills) {
        let rec;
        try {
          rec = await oneKill(shop, writer, kill);
        } catch (err) {
          rec = {
            index: kill.index,
            kind: kill.kind,
            variant: kill.variant,
            delay: kill.delay,
            recover: recoverLabel(kill.recover),
            problems: [`aborted: ${err.message}`],
            daemonLog: daemonLogTail(shop, 60),
          };
        }
        rec.seed = seed;
        result.kills.push(rec);
        const ok = rec.problems.length === 0;
        failed ||= !ok;
        log(
          `  #${rec.index} ${rec.kind} (+${rec.delay} ms, ${rec.victim ?? "daemon"}, ${rec.landed ?? "?"}${rec.step ? ` at ${rec.step}` : ""}; ${rec.recover}): ` +
            `${ok ? "ok" : `FAILED\n    ${rec.problems.join("\n    ")}`} — recovery ${rec.recoveryMs ?? "?"} ms, ${rec.acked ?? "?"} acked, boot ${rec.boot ?? "?"}`,
        );
        if (rec.problems.some((p) => p.startsWith("aborted"))) break; // the shop is in an unknown state
      }
    } finally {
      summary.writer = writer ? await writer.stop() : undefined;
      const down = await run(shop, ["down"]);
      if (down.code !== 0) log(`  down exited ${down.code}: ${down.out.slice(-400)}`);
      // The promise, checked on disk: every acknowledged write is in the store's data file.
      if (writer) {
        const acked = readLedger(writer.ledger);
        try {
          const lost = missing(acked, replayStoreLog(shop));
          summary.acked = acked.size;
          summary.lostAtEnd = lost.length;
          if (lost.length > 0) {
            failed = true;
            summary.lost = lost.slice(0, 20);
            log(`  ${lost.length} acknowledged writes are not in store.log: ${lost.slice(0, 5).join(", ")}`);
          } else log(`  store.log holds all ${acked.size} acknowledged writes`);
        } catch (err) {
          failed = true;
          summary.lostAtEnd = -1;
          summary.error = err.message;
        }
      }
      result.sessions.push(summary);
      onSession(result);
      if (!keep && !failed) fs.rmSync(shop.tmp, { recursive: true, force: true });
      else log(`  kept ${shop.tmp}`);
    }
  }
  return result;
}
