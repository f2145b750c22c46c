// @module bench/lib/crash-campaign/kinds
// The operations the campaign interrupts. Each kind says which shop it needs, how to bring the shop
// to its starting point (not killed), the command to kill the daemon in, the moment the random
// delay counts from (an anchor in the journal, so the kill lands inside the operation), how the
// application may be recovered, what it must look like afterwards, and how to put it back.
import { makePatch, must, readDb, run, sleep, waitFor, daemonPid } from "./shop.mjs";

const ALL = ["store", "engine", "scheduler", "archiver"];
const allReady = () => Object.fromEntries(ALL.map((c) => [c, "ready"]));
/** `stop engine` and `maintenance on engine` reach its dependant, the scheduler, too. */
const engineDown = (state) => ({ store: "ready", archiver: "ready", engine: state, scheduler: state });
export const CUTOVER_STEPS = ["start-new", "restart-on-new", "switch", "retire-old", "swap-links"];

/** Ids of the operations / job runs in the journal now. */
const ids = (shop, table) =>
  new Set(readDb(shop, (db) => db.prepare(`SELECT id FROM ${table}`).pluck().all()) ?? []);

/** Resolves once the journal holds a new operation of `kind` (or a new step `step` of a cutover). */
function journalAnchor(shop, cmd, { kind, step, table = "operations" }) {
  const seen = ids(shop, table);
  let exited = false;
  void cmd.done.then(() => (exited = true));
  return waitFor(
    step ? `cutover step ${step}` : `a new ${kind} in ${table}`,
    () => {
      const found = readDb(shop, (db) =>
        step
          ? db
              .prepare(
                "SELECT s.operation_id AS id FROM operation_steps s JOIN operations o ON o.id = s.operation_id WHERE o.kind = 'cutover' AND s.name = ?",
              )
              .all(step)
          : table === "job_runs"
            ? db.prepare("SELECT id FROM job_runs").all()
            : db.prepare("SELECT id FROM operations WHERE kind = ?").all(kind),
      );
      const fresh = found?.find((r) => !seen.has(r.id));
      if (fresh) return { opId: fresh.id };
      if (exited) throw new Error(`the command ended before its ${step ?? kind} was journaled`);
      return undefined;
    },
    90_000,
    3,
  );
}

const opAnchor = (kind) => (shop, cmd) => journalAnchor(shop, cmd, { kind });
const upAndReady = async (shop) => {
  await must(shop, ["up"]);
};

/** @type {Record<string, object>} */
export const KINDS = {
  up: {
    variant: "either",
    setup: (shop) => must(shop, ["down"]),
    args: () => ["up"],
    anchor: async (shop) => {
      await waitFor("daemon.pid", () => daemonPid(shop), 60_000, 3);
      return {};
    },
    delay: [300, 4500],
    recover: [["up"]],
    end: allReady,
  },
  stop: {
    variant: "either",
    args: () => ["stop", "engine"],
    anchor: opAnchor("stop"),
    delay: [0, 900],
    recover: ["daemon", ["stop", "engine"]],
    end: () => engineDown("stopped"),
    restore: upAndReady,
  },
  "restart-rolling": {
    variant: "patching",
    args: () => ["restart", "engine"],
    anchor: opAnchor("restart"),
    delay: [0, 3000],
    recover: ["daemon", ["up"]],
    end: allReady,
  },
  "restart-in-place": {
    variant: "shop",
    args: () => ["restart", "engine"],
    anchor: opAnchor("restart"),
    delay: [0, 3000],
    recover: ["daemon", ["up"]],
    end: allReady,
  },
  "restart-with-dependants": {
    variant: "either",
    args: () => ["restart", "store"],
    anchor: opAnchor("restart"),
    delay: [0, 3500],
    recover: ["daemon", ["up"]],
    end: allReady,
  },
  "maintenance-on": {
    variant: "either",
    args: () => ["maintenance", "on", "engine"],
    anchor: opAnchor("maintenance-on"),
    delay: [0, 900],
    recover: ["daemon"],
    end: () => engineDown("offline"),
    restore: (shop) => must(shop, ["maintenance", "off"]),
  },
  "maintenance-off": {
    variant: "either",
    setup: (shop) => must(shop, ["maintenance", "on", "engine"]),
    args: () => ["maintenance", "off"],
    anchor: opAnchor("maintenance-off"),
    delay: [0, 800],
    recover: ["daemon"],
    end: allReady,
  },
  "job-run": {
    variant: "either",
    args: () => ["run", "compact"],
    anchor: (shop, cmd) => journalAnchor(shop, cmd, { table: "job_runs" }),
    delay: [0, 2000],
    recover: ["daemon", ["up"]],
    end: allReady,
  },
  "daemon-restart": {
    variant: "either",
    args: () => ["daemon", "restart"],
    // The old daemon while it hands over, or the new one while it takes over.
    anchor: async (shop, cmd, rng) => {
      const old = daemonPid(shop);
      if (rng.next() < 0.5) return { victimNote: "old daemon", victim: old };
      const pid = await waitFor(
        "the new daemon",
        () => {
          const p = daemonPid(shop);
          return p !== undefined && p !== old ? p : undefined;
        },
        60_000,
        3,
      ).catch(() => undefined);
      return pid
        ? { victimNote: "new daemon", victim: pid, also: old }
        : { victimNote: "old daemon (no new one seen)", victim: old };
    },
    delay: [0, 1500],
    recover: ["daemon", ["up"]],
    end: allReady,
  },
};

for (const step of CUTOVER_STEPS)
  KINDS[`cutover-${step}`] = {
    variant: "patching",
    step,
    setup: async (shop) => {
      const p = makePatch(shop);
      await must(shop, ["patch", "prepare"]);
      await must(shop, ["patch", "apply", p.dir]);
      await must(shop, ["patch", "finalize"]);
      shop.pending = p.version;
    },
    args: () => ["patch", "cutover"],
    anchor: (shop, cmd) => journalAnchor(shop, cmd, { step }),
    delay: [0, 60],
    recover: ["daemon", ["up"]],
    end: allReady,
    // Before the switch the cycle rolls back; from the switch on, it rolls forward.
    session: ["start-new", "restart-on-new"].includes(step) ? "cutover-rolled-back" : "completed",
    restore: async (shop, outcome) => {
      if (outcome === "cutover-rolled-back") await must(shop, ["patch", "abort"]);
    },
  };

export const KIND_NAMES = Object.keys(KINDS);

/** Waits until the patch session is no longer mid-cutover; returns `{ status, open }`. */
export async function patchOutcome(shop) {
  return waitFor(
    "the patch session to settle",
    async () => {
      const r = await run(shop, ["patch", "status", "--json"]);
      if (r.code !== 0) return undefined;
      const s = JSON.parse(r.out);
      const session = s.open ?? s.history?.[0];
      if (!session) return undefined;
      if (["completed", "cutover-rolled-back"].includes(session.status)) return { status: session.status };
      await sleep(200);
      return undefined;
    },
    60_000,
    200,
  );
}
