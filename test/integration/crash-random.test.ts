/**
 * The daemon SIGKILLed at random points (design §4): during an `up` of 50 replicas, in the middle
 * of a replica's stop grace, mid-`restart` and mid-`down`; then booted again the way an operator
 * would (`steward up`, the same command again, or the daemon alone). After each crash the
 * application must converge: every replica that should run runs exactly once, what was alive
 * and recorded is re-adopted under its pid, no process group is left that Steward does not know,
 * the instance count rose by one, and the interrupted operation reached its end state in the
 * journal. Plus: a crash during the recovery from a crash, and a recorded pid that now belongs to
 * another program (neither adopted nor signalled).
 *
 * The timing comes from a seeded PRNG; every test name and failure message carries the seed and
 * the chosen delays. Replay a run with `STEWARD_CRASH_SEED=<seed> npx vitest run
 * test/integration/crash-random.test.ts` (add `-t "<test name>"` for one iteration: each iteration
 * draws from its own stream, so it replays alone as well).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { parseSeed, stratum, stream, type Stream } from "../../bench/lib/seeded.mjs";
import {
  alive,
  BIN,
  homeOf,
  node,
  openStateDb,
  procStat,
  project,
  readStamps,
  replicaOf,
  sleep,
  status,
  stewardWith,
  waitFor,
  type CliResult,
  type StatusDocument,
} from "./helpers.js";

// ---------------------------------------------------------------------------------------------
// Seeded randomness

const SEED = parseSeed(process.env.STEWARD_CRASH_SEED, "STEWARD_CRASH_SEED");

/** Iteration `i` of `scenario`: its own stream (it replays alone with `-t`). */
const draw = (scenario: string, iteration: number): Stream => stream(SEED, `${scenario}/${iteration}`);

/** Iteration `i` of `n` draws its delay from the i-th of n equal parts of [lo, hi]: every run reaches each part. */
const delayOf = (rng: Stream, lo: number, hi: number, i: number, n: number): number =>
  rng.between(...stratum(lo, hi, i, n));

const REPLAY = `STEWARD_CRASH_SEED=${SEED} npx vitest run test/integration/crash-random.test.ts`;

/** Runs `body`; a failure is re-thrown with the seed, the choices and the daemon log's tail. */
async function replayable(name: string, dir: () => string | undefined, body: () => Promise<void>) {
  try {
    await body();
  } catch (err) {
    const d = dir();
    let log = "(no daemon log)";
    if (d) {
      try {
        log = fs
          .readFileSync(path.join(homeOf(d), "logs", "daemon.log"), "utf8")
          .split("\n")
          .slice(-60)
          .join("\n");
      } catch {
        // none written
      }
    }
    const header = `[seed ${SEED}: ${name}; replay: ${REPLAY} -t "${name}"]`;
    if (err instanceof Error) {
      err.message = `${header}\n${err.message}\n--- daemon.log (last lines) ---\n${log}`;
      throw err;
    }
    throw new Error(`${header}\n${String(err)}\n--- daemon.log (last lines) ---\n${log}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

const cliEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.STEWARD_FILE;
  return env;
};

interface Background {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** `steward <args…>` in the background; `done` resolves when it exits (SIGKILLed after `timeoutMs`). */
function background(dir: string, args: string[], timeoutMs = 60_000): Background {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: cliEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<CliResult>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
  return { child, done };
}

/**
 * Runs `fn` (the kill, the snapshot) with the interrupted CLI frozen. A CLI that finds its daemon
 * gone starts a new one at once (cli/recovery); on a loaded machine that daemon could write its
 * record before the test has read the crashed one's, and the test would expect the wrong instance.
 */
async function whileFrozen<T>(cli: Background, fn: () => Promise<T> | T): Promise<T> {
  cli.child.kill("SIGSTOP");
  try {
    return await fn();
  } finally {
    cli.child.kill("SIGCONT");
  }
}

/** The daemon alone, the way `ensureDaemon` starts it: detached, output appended to daemon.log. */
function bootDaemon(dir: string): { child: ChildProcess; exit: Promise<number | string | null> } {
  const logDir = path.join(homeOf(dir), "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const fd = fs.openSync(path.join(logDir, "daemon.log"), "a");
  const child = spawn(process.execPath, [BIN, "daemon", "-f", path.join(dir, "steward.yaml")], {
    cwd: dir,
    env: cliEnv(),
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  const exit = new Promise<number | string | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  return { child, exit };
}

/** The pid in `<home>/daemon.pid`, once there is one. */
function daemonPidFile(dir: string, timeoutMs = 15_000): Promise<number> {
  return waitFor(
    "<home>/daemon.pid",
    () => {
      const pid = Number(fs.readFileSync(path.join(homeOf(dir), "daemon.pid"), "utf8").trim());
      return Number.isInteger(pid) && pid > 1 ? pid : undefined;
    },
    timeoutMs,
    2,
  );
}

/** SIGKILL `pid` and wait until it is gone; false when it had already exited. */
async function crash(pid: number): Promise<boolean> {
  const wasAlive = alive(pid);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
  await waitFor(`daemon ${pid} to die`, () => !alive(pid), 5_000, 2);
  return wasAlive;
}

/** Resolves with the time `pid` was first seen dead (polled every 5 ms). */
async function deathOf(pid: number, timeoutMs: number): Promise<number> {
  await waitFor(`pid ${pid} to die`, () => !alive(pid), timeoutMs, 5);
  return Date.now();
}

/** `/proc/<pid>/stat` field 22 (start time in clock ticks), or undefined. */
function startTimeOf(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(
      text
        .slice(text.lastIndexOf(")") + 2)
        .trim()
        .split(" ")[19],
    );
  } catch {
    return undefined;
  }
}

interface Marked {
  pid: number;
  pgrp: number;
  component: string;
  replica: string;
}

/** Live processes whose environment carries `STEWARD_HOME=<home>` and a `STEWARD_COMPONENT`. */
function markedProcesses(home: string): Marked[] {
  const found: Marked[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue;
    }
    const vars = new Map<string, string>();
    for (const kv of environ.split("\0")) {
      const eq = kv.indexOf("=");
      if (eq > 0) vars.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const component = vars.get("STEWARD_COMPONENT");
    if (vars.get("STEWARD_HOME") !== home || component === undefined) continue;
    const st = procStat(pid);
    if (!st || st.state === "Z" || st.state === "X") continue;
    found.push({ pid, pgrp: st.pgrp, component, replica: vars.get("STEWARD_REPLICA") ?? "?" });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The state database

interface OperationRow {
  id: string;
  kind: string;
  status: string;
  resumes: number;
  instance: number;
  error: string | null;
}

interface StepRow {
  operation_id: string;
  seq: number;
  phase: number;
  name: string;
  component: string;
  replica_index: number | null;
  status: string;
  started_at: number;
}

interface ReplicaRow {
  component: string;
  replica_index: number;
  state: string;
  pid: number | null;
  start_time: number | null;
}

/** What `state.db` said when the daemon died, and which recorded processes were alive then. */
interface Snapshot {
  daemon: { state: string; instance: number } | undefined;
  replicas: (ReplicaRow & { aliveAtCrash: boolean })[];
  /** Operations left `running`. */
  running: OperationRow[];
  steps: StepRow[];
}

function readDb<T>(dir: string, read: (db: Database.Database, tables: Set<string>) => T): T | undefined {
  let db: Database.Database;
  try {
    db = openStateDb(dir);
  } catch {
    return undefined; // not created yet
  }
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    return read(db, tables);
  } finally {
    db.close();
  }
}

const LIVE = new Set(["starting", "running", "ready", "draining", "stopping"]);

function snapshot(dir: string): Snapshot {
  const snap = readDb(dir, (db, tables): Snapshot => {
    const daemon = tables.has("daemon")
      ? (db.prepare("SELECT state, instance FROM daemon WHERE id = 1").get() as Snapshot["daemon"])
      : undefined;
    const replicas = tables.has("replicas")
      ? (db
          .prepare("SELECT component, replica_index, state, pid, start_time FROM replicas")
          .all() as ReplicaRow[])
      : [];
    const running = tables.has("operations")
      ? (db
          .prepare(
            "SELECT id, kind, status, resumes, instance, error FROM operations WHERE status = 'running' ORDER BY started_at",
          )
          .all() as OperationRow[])
      : [];
    const steps = tables.has("operation_steps")
      ? (db.prepare("SELECT * FROM operation_steps ORDER BY operation_id, seq").all() as StepRow[])
      : [];
    return {
      daemon,
      running,
      steps: steps.filter((s) => running.some((o) => o.id === s.operation_id)),
      replicas: replicas.map((r) => ({
        ...r,
        aliveAtCrash:
          r.pid !== null && r.start_time !== null && alive(r.pid) && startTimeOf(r.pid) === r.start_time,
      })),
    };
  });
  return snap ?? { daemon: undefined, replicas: [], running: [], steps: [] };
}

/** The journaled steps of operation `id`, in order (both daemons' runs of it). */
function stepsOf(dir: string, id: string): StepRow[] {
  return (
    (readDb(dir, (db) =>
      db.prepare("SELECT * FROM operation_steps WHERE operation_id = ? ORDER BY seq").all(id),
    ) as StepRow[] | undefined) ?? []
  );
}

function operations(dir: string): OperationRow[] {
  return (
    (readDb(dir, (db) =>
      db.prepare("SELECT id, kind, status, resumes, instance, error FROM operations").all(),
    ) as OperationRow[] | undefined) ?? []
  );
}

/** With `STEWARD_CRASH_VERBOSE=1`: where each crash landed (which operation, how far, what ran). */
function trace(name: string, snap: Snapshot): void {
  if (!process.env.STEWARD_CRASH_VERBOSE) return;
  const states = new Map<string, number>();
  for (const r of snap.replicas) states.set(r.state, (states.get(r.state) ?? 0) + 1);
  const ops = snap.running
    .map((o) => {
      const steps = snap.steps.filter((s) => s.operation_id === o.id);
      const last = steps.at(-1);
      return `${o.kind} (${steps.length} steps${last ? `, last ${last.name} ${last.component}${last.replica_index ?? ""} ${last.status}` : ""})`;
    })
    .join("; ");
  console.log(
    `[seed ${SEED}] ${name}: daemon ${snap.daemon ? `${snap.daemon.state}/${snap.daemon.instance}` : "none"}; ` +
      `replicas ${[...states].map(([s, n]) => `${n} ${s}`).join(", ") || "none"} ` +
      `(${snap.replicas.filter((r) => r.aliveAtCrash).length} alive); running: ${ops || "none"}`,
  );
}

/** What the next boot must show after one crash: +1 from an `active` record, else a clean 100. */
function expectedBoot(snap: Snapshot): { instance: number; bootKind: string } {
  return snap.daemon?.state === "active"
    ? { instance: snap.daemon.instance + 1, bootKind: "recovered" }
    : { instance: 100, bootKind: "clean" };
}

const key = (component: string, index: number | string): string => `${component}[${index}]`;

/** Replicas recorded live with a pid that was still alive (same start time) when the daemon died. */
function adoptable(snap: Snapshot, components?: (c: string) => boolean): Map<string, number> {
  const keep = new Map<string, number>();
  for (const r of snap.replicas)
    if (r.aliveAtCrash && LIVE.has(r.state) && (components?.(r.component) ?? true))
      keep.set(key(r.component, r.replica_index), r.pid!);
  return keep;
}

// ---------------------------------------------------------------------------------------------
// Convergence

interface Converged {
  /** Components every replica of which must be `ready`. */
  ready: string[];
  /** Replicas that must still run under this pid (re-adopted, not restarted). */
  keep: Map<string, number>;
  boot: { instance: number; bootKind: string };
  /** Operations that must have ended `done`. */
  finished: string[];
}

/** Every live process of this home, grouped by process group, against the replicas in `doc`. */
function assertProcessesMatch(doc: StatusDocument): void {
  const live = new Map<number, string>();
  for (const c of doc.components)
    for (const r of c.replicas) if (r.pid !== null) live.set(r.pid, key(c.name, r.index));
  const marked = markedProcesses(doc.daemon.home);
  const groups = new Map<number, Marked[]>();
  for (const m of marked) groups.set(m.pgrp, [...(groups.get(m.pgrp) ?? []), m]);
  const listing = marked
    .map((m) => `pid ${m.pid} pgid ${m.pgrp} ${key(m.component, m.replica)}`)
    .join("\n    ");
  expect(
    [...groups.keys()].sort((a, b) => a - b),
    `the process groups carrying this home's marker are exactly the live replicas' (${[...live]
      .map(([pid, k]) => `${k}=${pid}`)
      .join(", ")}); found:\n    ${listing}`,
  ).toEqual([...live.keys()].sort((a, b) => a - b));
  for (const [pgid, members] of groups) {
    // Every fixture used here is one process: a second member would be a second copy.
    expect(
      members.map((m) => key(m.component, m.replica)),
      `group ${pgid}`,
    ).toEqual([live.get(pgid)]);
  }
  const perReplica = new Map<string, number>();
  for (const m of marked)
    perReplica.set(key(m.component, m.replica), (perReplica.get(key(m.component, m.replica)) ?? 0) + 1);
  for (const [k, n] of perReplica) expect(n, `live processes of ${k}:\n    ${listing}`).toBe(1);
}

async function assertConverged(dir: string, want: Converged): Promise<StatusDocument> {
  // An operation that finished before `active` may still see an adopted replica's readiness resume.
  let doc = await waitFor(
    `every replica of ${want.ready.join(", ")} to be ready`,
    async () => {
      const d = await status(dir);
      const ok =
        d.daemon.state === "active" &&
        want.ready.every((c) =>
          d.components.find((x) => x.name === c)?.replicas.every((r) => r.state === "ready"),
        );
      return ok ? d : undefined;
    },
    10_000,
    50,
  ).catch(async (err: Error) => {
    const d = await status(dir).catch(() => undefined);
    const states = d?.components
      .map(
        (c) =>
          `${c.name}: ${c.replicas.map((r) => `${r.state}${r.reason ? ` (${r.reason})` : ""}`).join(", ")}`,
      )
      .join("\n    ");
    throw new Error(`${err.message}; daemon ${d?.daemon.state}; replicas:\n    ${states}`);
  });
  expect(
    { instance: doc.daemon.instance, bootKind: doc.daemon.bootKind },
    "instance count and boot kind",
  ).toEqual(want.boot);
  for (const c of want.ready)
    for (const r of doc.components.find((x) => x.name === c)!.replicas)
      expect(r.pid !== null && alive(r.pid), `${key(c, r.index)} pid ${r.pid} is alive`).toBe(true);
  const moved = [...want.keep]
    .map(([k, pid]) => {
      const [, c = "", i = "0"] = /^(.*)\[(\d+)\]$/.exec(k) ?? [];
      const now = replicaOf(doc, c, Number(i));
      return now.pid === pid ? undefined : `${k}: pid ${pid} → ${now.pid} (${now.state}, ${now.reason})`;
    })
    .filter(Boolean);
  expect(moved, "replicas alive at the crash keep their pid (re-adopted, not restarted)").toEqual([]);
  assertProcessesMatch(doc);
  const ops = operations(dir);
  expect(
    ops.filter((o) => o.status === "running"),
    "no operation is left running once the daemon is active",
  ).toEqual([]);
  for (const id of want.finished) {
    const op = ops.find((o) => o.id === id);
    expect(op, `interrupted operation ${id}`).toMatchObject({ status: "done" });
    expect(op?.resumes, `interrupted operation ${id} was resumed`).toBeGreaterThanOrEqual(1);
  }
  doc = await status(dir);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Topologies

const UP = `
name: crash-up
components:
  db:
    command: ${node("prints-then-ready.js", 300)}
    ready: { log: "ready to serve" }
  w:
    command: ${node("forever.js")}
    replicas: 50
    ready: { log: "started" }
    depends_on: { db: ready }
  edge:
    command: ${node("prints-then-ready.js", 200)}
    ready: { log: "ready to serve" }
    depends_on: { w: ready }
`;

const STOP_GRACE_MS = 2_000;
const STOP = `
name: crash-stop
components:
  keep:
    command: ${node("forever.js")}
  s:
    command: ${node("stamp.js", "s")}
    env: { STAMP_FILE: "{dir}/stamps", STAMP_IGNORE_TERM: "1" }
    ready: { log: "READY s" }
    stop: { grace: ${STOP_GRACE_MS}ms }
`;

/** stamp.js replicas that take a while to be ready and to exit, in a chain db ← api ← web. */
const stamped = (name: string, readyMs: number, exitMs: number) =>
  `${node("stamp.js", name)}
    env: { STAMP_FILE: "{dir}/stamps", STAMP_READY_MS: "${readyMs}", STAMP_EXIT_MS: "${exitMs}" }
    ready: { log: "READY ${name}" }`;

const CHAIN = (name: string, exitMs: number) => `
name: ${name}
components:
  db:
    command: ${stamped("db", 300, exitMs)}
  api:
    command: ${stamped("api", 200, exitMs)}
    replicas: 3
    depends_on: { db: ready }
  web:
    command: ${stamped("web", 200, exitMs)}
    depends_on: { api: ready }
  other:
    command: ${node("forever.js")}
`;
const ALL = ["db", "api", "web", "other"];

// ---------------------------------------------------------------------------------------------

/**
 * Iterations per scenario; each draws its delay from its own part of the scenario's range
 * (`delayOf`), so every run reaches the early, middle and late kills, and the seed varies where.
 */
const ITERATIONS = { up: 4, stop: 3, restart: 3, down: 3, twice: 2 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe(`the daemon SIGKILLed at random points (seed ${SEED})`, () => {
  describe("during `up` of 50 replicas", () => {
    for (const i of range(ITERATIONS.up)) {
      const rng = draw("up", i);
      const delay = delayOf(rng, 0, 4_000, i, ITERATIONS.up);
      const name = `up #${i}: SIGKILL ${delay}ms after daemon.pid appears, then \`steward up\``;
      it(
        name,
        async () => {
          let dir: string | undefined;
          await replayable(
            name,
            () => dir,
            async () => {
              dir = project(UP);
              const first = background(dir, ["up"]);
              const pid = await daemonPidFile(dir);
              await sleep(delay);
              const snap = await whileFrozen(first, async () => {
                await crash(pid);
                return snapshot(dir!);
              });
              trace(name, snap);
              const firstResult = await first.done;
              expect(firstResult.code, "the interrupted `up` exits (no hang)").not.toBeNull();

              const again = await stewardWith({ timeoutMs: 60_000 }, dir, "up");
              expect(again.code, `steward up after the crash:\n${again.stdout}${again.stderr}`).toBe(0);
              const doc = await assertConverged(dir, {
                ready: ["db", "w", "edge"],
                keep: adoptable(snap),
                boot: expectedBoot(snap),
                finished: snap.running.map((o) => o.id),
              });
              if (doc.daemon.bootKind === "recovered") {
                expect(doc.daemon.recovery?.adopted, "recovery.adopted").toBeGreaterThanOrEqual(
                  adoptable(snap).size,
                );
                expect(doc.daemon.recovery?.resumed).toEqual(snap.running.map((o) => o.kind));
              }
            },
          );
        },
        60_000,
      );
    }
  });

  describe("in a replica's stop grace", () => {
    for (const i of range(ITERATIONS.stop)) {
      const rng = draw("stop", i);
      const delay = delayOf(rng, 0, STOP_GRACE_MS - 300, i, ITERATIONS.stop);
      const method = rng.pick(["steward stop s", "daemon alone"] as const);
      const name = `stop #${i}: SIGKILL ${delay}ms after \`stopping\`, then ${method}`;
      it(
        name,
        async () => {
          let dir: string | undefined;
          await replayable(
            name,
            () => dir,
            async () => {
              dir = project(STOP);
              const up = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
              expect(up.code, up.stdout + up.stderr).toBe(0);
              const before = await status(dir);
              const keepPid = replicaOf(before, "keep").pid!;
              const sPid = replicaOf(before, "s").pid!;

              const stop = background(dir, ["stop", "s"]);
              await waitFor(
                "s to be stopping",
                async () => replicaOf(await status(dir!), "s").state === "stopping",
                10_000,
                5,
              );
              const seenAt = Date.now();
              await sleep(delay);
              const { late, death, snap } = await whileFrozen(stop, async () => {
                await crash(before.daemon.pid);
                return {
                  // Overslept past the grace (a loaded machine): the daemon may have ended the stop itself.
                  late: Date.now() - seenAt >= STOP_GRACE_MS - 50,
                  death: deathOf(sPid, 20_000),
                  snap: snapshot(dir!),
                };
              });
              trace(name, snap);
              if (late) console.warn(`${name}: the SIGKILL came ${Date.now() - seenAt}ms after \`stopping\``);
              else expect(alive(sPid), "the replica outlives its daemon (it ignores SIGTERM)").toBe(true);
              const stopped = await stop.done;
              expect(stopped.code, "the interrupted `stop` fails").not.toBe(0);

              if (method === "daemon alone") {
                bootDaemon(dir);
                await waitFor(
                  "the daemon to be active",
                  async () => (await status(dir!)).daemon.state === "active",
                  20_000,
                  20,
                );
              } else {
                const again = await stewardWith({ timeoutMs: 30_000 }, dir, "stop", "s");
                expect(again.code, `steward stop s after the crash:\n${again.stdout}${again.stderr}`).toBe(0);
              }
              await death; // SIGKILLed by the daemon that resumed the stop
              const sigterms = readStamps(path.join(dir, "stamps")).filter((s) => s.event === "sigterm");
              expect(sigterms.length, "SIGTERMs the replica got").toBeGreaterThanOrEqual(1);
              const doc = await assertConverged(dir, {
                ready: ["keep"],
                keep: new Map([[key("keep", 0), keepPid]]),
                boot: expectedBoot(snap),
                finished: snap.running.map((o) => o.id),
              });
              expect(replicaOf(doc, "s"), "s after the resumed stop").toMatchObject({
                state: "killed",
                invalidated: true,
                pid: null,
              });
              // The grace counts from the signal, across the crash: by the daemons' own journal (not the
              // test's clock, which a loaded machine stretches by the recovering daemon's boot), the SIGKILL
              // comes once the grace after the first signal that went out has passed — and not a whole new
              // grace after the resumed stop began, which is what a stop that forgot the signal would do.
              const op = snap.running.find((o) => o.kind === "stop");
              if (op) {
                const steps = stepsOf(dir, op.id).filter((x) => x.component === "s");
                const list = steps
                  .map((x) => `${x.seq} ${x.name} ${x.status} at ${x.started_at}`)
                  .join("\n    ");
                const signal = steps.find((x) => x.name === "signal" && x.status === "done");
                const resumed = steps.filter((x) => x.name === "grace").at(-1);
                const killed = steps.find((x) => x.name === "kill" && x.status === "done");
                expect(
                  signal && resumed && killed,
                  `signal, grace and kill journaled:\n    ${list}`,
                ).toBeTruthy();
                expect(
                  killed!.started_at,
                  `SIGKILL not before the grace expired:\n    ${list}`,
                ).toBeGreaterThanOrEqual(signal!.started_at + STOP_GRACE_MS);
                if (signal!.started_at < resumed!.started_at)
                  expect(
                    killed!.started_at - Math.max(signal!.started_at + STOP_GRACE_MS, resumed!.started_at),
                    `the resumed stop waits what is left of the grace, not a new one:\n    ${list}`,
                  ).toBeLessThan(STOP_GRACE_MS / 2);
              }
              if (!late) {
                expect(
                  snap.running.map((o) => o.kind),
                  "the stop was under way at the crash",
                ).toEqual(["stop"]);
                expect(doc.daemon.recovery?.resumed).toEqual(["stop"]);
              }
            },
          );
        },
        45_000,
      );
    }
  });

  describe("mid-restart", () => {
    for (const i of range(ITERATIONS.restart)) {
      const rng = draw("restart", i);
      const delay = delayOf(rng, 100, 2_800, i, ITERATIONS.restart);
      const method = rng.pick(["steward up", "steward restart db", "daemon alone"] as const);
      const name = `restart #${i}: SIGKILL ${delay}ms into \`steward restart db\`, then ${method}`;
      it(
        name,
        async () => {
          let dir: string | undefined;
          await replayable(
            name,
            () => dir,
            async () => {
              dir = project(CHAIN("crash-restart", 150));
              const up = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
              expect(up.code, up.stdout + up.stderr).toBe(0);
              const before = await status(dir);

              const restart = background(dir, ["restart", "db"]);
              await sleep(delay);
              const snap = await whileFrozen(restart, async () => {
                await crash(before.daemon.pid);
                return snapshot(dir!);
              });
              trace(name, snap);
              await restart.done;

              if (method === "daemon alone") {
                bootDaemon(dir);
                await waitFor(
                  "the daemon to be active",
                  async () => (await status(dir!)).daemon.state === "active",
                  20_000,
                  20,
                );
              } else {
                const args = method === "steward up" ? ["up"] : ["restart", "db"];
                const again = await stewardWith({ timeoutMs: 30_000 }, dir, ...args);
                expect(again.code, `${method} after the crash:\n${again.stdout}${again.stderr}`).toBe(0);
              }
              // Outside the restarted set nothing moves; inside it, what a finished stop phase left
              // running (the start phase under way) is kept unless the operator restarts again.
              const op = snap.running.find((o) => o.kind === "restart");
              const stopPhaseDone =
                op !== undefined &&
                ["web", "api", "db"].every((c) =>
                  snap.steps.some(
                    (s) =>
                      s.operation_id === op.id &&
                      s.phase === 0 &&
                      s.name === "stop" &&
                      s.component === c &&
                      s.status === "done",
                  ),
                );
              const keep = adoptable(
                snap,
                (c) => c === "other" || (stopPhaseDone && method !== "steward restart db"),
              );
              const doc = await assertConverged(dir, {
                ready: ALL,
                keep,
                boot: expectedBoot(snap),
                finished: snap.running.map((o) => o.id),
              });
              if (op) {
                // The resumed restart did restart the whole set: no replica runs its pre-restart pid.
                const unchanged = ["web", "api", "db"].flatMap((c) =>
                  before.components
                    .find((x) => x.name === c)!
                    .replicas.filter((r) => replicaOf(doc, c, r.index).pid === r.pid)
                    .map((r) => `${key(c, r.index)} pid ${r.pid}`),
                );
                expect(unchanged, "replicas the interrupted restart never restarted").toEqual([]);
              }
            },
          );
        },
        45_000,
      );
    }
  });

  describe("mid-down", () => {
    for (const i of range(ITERATIONS.down)) {
      const rng = draw("down", i);
      const delay = delayOf(rng, 100, 1_100, i, ITERATIONS.down);
      const method = rng.pick(["daemon alone", "steward down"] as const);
      const name = `down #${i}: SIGKILL ${delay}ms into \`steward down\`, then ${method}`;
      it(
        name,
        async () => {
          let dir: string | undefined;
          await replayable(
            name,
            () => dir,
            async () => {
              dir = project(CHAIN("crash-down", 300));
              const up = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
              expect(up.code, up.stdout + up.stderr).toBe(0);
              const before = await status(dir);

              const down = background(dir, ["down"]);
              await sleep(delay);
              const snap = await whileFrozen(down, async () => {
                await crash(before.daemon.pid);
                return snapshot(dir!);
              });
              trace(name, snap);
              await down.done;
              const interrupted = snap.running.find((o) => o.kind === "down");

              if (snapshot(dir).daemon?.state === "stopped") {
                // The down was over before the kill, or the interrupted CLI found the daemon gone before
                // it connected and started one itself: nothing left to do.
              } else if (interrupted && method === "daemon alone") {
                const { exit } = bootDaemon(dir);
                const code = await Promise.race([exit, sleep(20_000).then(() => "still running after 20s")]);
                expect(code, "the daemon alone finishes the interrupted down and exits").toBe(0);
              } else {
                // A down never journaled (the kill came first), or the operator's way: `down` again.
                const again = await stewardWith({ timeoutMs: 30_000 }, dir, "down");
                expect(again.code, `steward down after the crash:\n${again.stdout}${again.stderr}`).toBe(0);
              }

              // daemon.pid is removed by an orderly exit and left by a crash: a kill that landed after the
              // down had recorded `stopped` leaves the dead daemon's pid there, and that is fine.
              await waitFor(
                "no daemon to run",
                () => {
                  const file = path.join(homeOf(dir!), "daemon.pid");
                  if (!fs.existsSync(file)) return true;
                  return !alive(Number(fs.readFileSync(file, "utf8").trim()));
                },
                5_000,
              );
              const left = markedProcesses(homeOf(dir));
              expect(left, "no process of this home is left").toEqual([]);
              const after = readDb(dir, (db) => ({
                daemon: db.prepare("SELECT state, instance FROM daemon WHERE id = 1").get() as
                  { state: string; instance: number } | undefined,
                replicas: (db.prepare("SELECT count(*) AS n FROM replicas").get() as { n: number }).n,
              }));
              expect(after?.daemon?.state, "the daemon record says stopped").toBe("stopped");
              expect(after?.replicas, "volatile records cleared").toBe(0);
              if (snap.daemon?.state === "active")
                expect(after?.daemon?.instance, "the crash was counted").toBe(snap.daemon.instance + 1);
              const ops = operations(dir);
              expect(
                ops.filter((o) => o.status === "running"),
                "no operation left running",
              ).toEqual([]);
              if (interrupted)
                expect(
                  ops.find((o) => o.id === interrupted.id),
                  "the interrupted down",
                ).toMatchObject({
                  status: "done",
                });
            },
          );
        },
        45_000,
      );
    }
  });
});

describe(`a crash during the recovery from a crash (seed ${SEED})`, () => {
  for (const i of range(ITERATIONS.twice)) {
    const rng = draw("twice", i);
    const first = delayOf(rng, 300, 1_500, i, ITERATIONS.twice);
    const second = rng.between(0, 500);
    const name = `twice #${i}: SIGKILL ${first}ms into \`steward restart db\`, the recovering daemon ${second}ms after it started, then \`steward up\``;
    it(
      name,
      async () => {
        let dir: string | undefined;
        await replayable(
          name,
          () => dir,
          async () => {
            dir = project(CHAIN("crash-twice", 300));
            const up = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
            expect(up.code, up.stdout + up.stderr).toBe(0);
            const before = await status(dir);

            const restart = background(dir, ["restart", "db"]);
            await sleep(first);
            const snap1 = await whileFrozen(restart, async () => {
              await crash(before.daemon.pid);
              return snapshot(dir!);
            });
            trace(`${name} (first)`, snap1);
            await restart.done;

            const recovering = bootDaemon(dir);
            await sleep(second);
            await crash(recovering.child.pid!);
            const snap = snapshot(dir);
            trace(`${name} (second)`, snap);

            const again = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
            expect(again.code, `steward up after two crashes:\n${again.stdout}${again.stderr}`).toBe(0);
            await assertConverged(dir, {
              ready: ALL,
              keep: adoptable(snap, (c) => c === "other"),
              boot: expectedBoot(snap),
              finished: [...new Set([...snap1.running, ...snap.running].map((o) => o.id))],
            });
            if (snap1.daemon?.state === "active" && snap.daemon?.instance === snap1.daemon.instance + 1)
              expect((await status(dir)).daemon.instance, "both crashes counted").toBe(
                snap1.daemon.instance + 2,
              );
          },
        );
      },
      45_000,
    );
  }
});

describe("pid reuse across a crash", () => {
  it("a recorded pid that now belongs to another program is neither adopted nor signalled; the replica is restarted", async () => {
    const dir = project(`
name: crash-reuse
components:
  a:
    command: ${node("forever.js")}
  b:
    command: ${node("forever.js")}
`);
    let unrelated: ChildProcess | undefined;
    try {
      const up = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
      expect(up.code, up.stdout + up.stderr).toBe(0);
      const before = await status(dir);
      const a = replicaOf(before, "a");
      const bPid = replicaOf(before, "b").pid!;
      await crash(before.daemon.pid);
      process.kill(-a.pid!, "SIGKILL");
      await waitFor("a to die", () => !alive(a.pid!), 5_000);

      // Another program, in its own group, outside the project (the cleanup must not find it).
      unrelated = spawn("sleep", ["60"], { cwd: "/", detached: true, stdio: "ignore" });
      const other = unrelated.pid!;
      await waitFor("sleep to run", () => procStat(other)?.pgrp === other, 5_000);
      const db = new Database(path.join(homeOf(dir), "state.db"), { fileMustExist: true });
      try {
        const changed = db
          .prepare("UPDATE replicas SET pid = ?, pgid = ? WHERE component = 'a' AND replica_index = 0")
          .run(other, other).changes;
        expect(changed).toBe(1);
      } finally {
        db.close();
      }

      const again = await stewardWith({ timeoutMs: 30_000 }, dir, "up");
      expect(again.code, again.stdout + again.stderr).toBe(0);
      await sleep(300); // a stray signal to the wrong group would have landed by now
      const doc = await status(dir);
      expect(alive(other), `the unrelated process ${other} is untouched`).toBe(true);
      const now = replicaOf(doc, "a");
      expect(now.pid, "not adopted: a runs under a new pid").not.toBe(other);
      expect(now).toMatchObject({ state: "ready", restarts: a.restarts + 1 });
      expect(replicaOf(doc, "b").pid, "b is re-adopted").toBe(bPid);
      expect(doc.daemon).toMatchObject({ instance: before.daemon.instance + 1, bootKind: "recovered" });
      assertProcessesMatch(doc);
    } finally {
      unrelated?.kill("SIGKILL");
    }
  });
});
