// @module bench/lib/crash-campaign/checks
// What the campaign checks after each kill and recovery, each from a source Steward does not
// control: the processes through /proc (their STEWARD_* markers), the journal in state.db, and the
// writer's ledger against the store (through the shop's API and, at the end, its data file).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { httpCall, readDb } from "./shop.mjs";

/** `/proc/<pid>/stat`: state, process group, start time; undefined when gone. */
export function procStat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: f[0], pgrp: Number(f[2]), startTime: Number(f[19]) };
  } catch {
    return undefined;
  }
}

export function alive(pid) {
  const st = procStat(pid);
  return st !== undefined && st.state !== "Z" && st.state !== "X";
}

/** Live processes whose environment says `STEWARD_HOME=<home>`: `{ pid, pgrp, component, replica, job }`. */
export function markedProcesses(home) {
  const found = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let environ;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue;
    }
    if (!environ.includes(`STEWARD_HOME=${home}\0`) && !environ.endsWith(`STEWARD_HOME=${home}`)) continue;
    const vars = {};
    for (const kv of environ.split("\0")) {
      const eq = kv.indexOf("=");
      if (eq > 0 && kv.startsWith("STEWARD_")) vars[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    if (vars.STEWARD_HOME !== home) continue;
    const st = procStat(pid);
    if (!st || st.state === "Z" || st.state === "X") continue;
    let cmd = "";
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
    } catch {
      // gone
    }
    found.push({
      pid,
      pgrp: st.pgrp,
      component: vars.STEWARD_COMPONENT,
      replica: vars.STEWARD_REPLICA === undefined ? undefined : Number(vars.STEWARD_REPLICA),
      job: vars.STEWARD_JOB,
      run: vars.STEWARD_RUN,
      cmd,
    });
  }
  return found;
}

/** What state.db says at the moment of the kill. */
export function snapshot(shop) {
  return (
    readDb(shop, (db) => {
      const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type='table'").pluck().all());
      const daemon = tables.has("daemon")
        ? db.prepare("SELECT state, instance FROM daemon WHERE id = 1").get()
        : undefined;
      const ops = tables.has("operations")
        ? db.prepare("SELECT id, kind, status FROM operations ORDER BY started_at").all()
        : [];
      const steps = tables.has("operation_steps")
        ? db.prepare("SELECT operation_id, name, component, status FROM operation_steps ORDER BY seq").all()
        : [];
      const runs = tables.has("job_runs") ? db.prepare("SELECT id, job, state, pid FROM job_runs").all() : [];
      return { daemon, ops, steps, runs };
    }) ?? { daemon: undefined, ops: [], steps: [], runs: [] }
  );
}

/** Operations and job runs now. */
export function journal(shop) {
  return (
    readDb(shop, (db) => ({
      ops: db.prepare("SELECT id, kind, status, resumes, error FROM operations").all(),
      runs: db.prepare("SELECT id, job, state, pid, pgid, reason FROM job_runs").all(),
    })) ?? { ops: [], runs: [] }
  );
}

/** The next boot after one crash: +1 from `active`, the same count from `handover`, else a clean 100. */
export function expectedBoot(snap) {
  const d = snap.daemon;
  if (d?.state === "active") return { instance: d.instance + 1, bootKind: "recovered" };
  if (d?.state === "handover") return { instance: d.instance, bootKind: "handover" };
  return { instance: 100, bootKind: "clean" };
}

/**
 * Processes against the status: every marked process group is a live replica's or a running job
 * run's (else an orphan), each replica group holds one process, and no replica slot (index modulo
 * the replica count: a surge replacement shares its slot) runs twice. Returns the problems.
 */
export function processProblems(shop, doc, replicasOf) {
  const problems = { orphans: [], duplicates: [] };
  const groups = new Map();
  for (const c of doc.components)
    for (const r of c.replicas) if (r.pid !== null) groups.set(r.pid, `${c.name}[${r.index}]`);
  const runs = journal(shop).runs.filter((r) => r.state === "running");
  for (const r of runs) if (r.pgid !== null) groups.set(r.pgid, `job ${r.job} run ${r.id}`);
  const marked = markedProcesses(shop.home);
  const slots = new Map();
  for (const m of marked) {
    const owner = groups.get(m.pgrp);
    if (owner === undefined) {
      problems.orphans.push(
        `pid ${m.pid} (pgid ${m.pgrp}, ${m.component ?? `job ${m.job}`}[${m.replica ?? m.run}]): ${m.cmd}`,
      );
      continue;
    }
    if (m.component === undefined) continue;
    const n = replicasOf(m.component);
    const slot = `${m.component}#${m.replica % n}`;
    slots.set(slot, [...(slots.get(slot) ?? []), m]);
  }
  for (const [slot, list] of slots)
    if (list.length > 1)
      problems.duplicates.push(
        `slot ${slot} runs ${list.length} times: ${list.map((m) => `pid ${m.pid} ${m.component}[${m.replica}]`).join(", ")}`,
      );
  return problems;
}

/** The writer's ledger: key → value, in order. */
export function readLedger(file) {
  const map = new Map();
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return map;
  }
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) map.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return map;
}

/** Acknowledged writes the store does not hold (or holds with another value). */
export function missing(acked, stored) {
  const lost = [];
  for (const [k, v] of acked) if (stored[k] !== v) lost.push(`${k}=${v} (store: ${stored[k] ?? "absent"})`);
  return lost;
}

/**
 * Every write acknowledged so far is in the store: snapshot the ledger, ask every running engine
 * to flush (its write-back cache holds the writes acknowledged with 202), then read the store.
 */
export async function lostWrites(shop, doc, ledger) {
  const acked = readLedger(ledger);
  const engine = doc.components.find((c) => c.name === "engine");
  for (const r of engine?.replicas ?? []) {
    const port =
      r.port ?? (shop.variant === "shop" ? Number(`${shop.env.SHOP_ENGINE_PORT_PREFIX}${r.index}`) : null);
    if (r.pid !== null && port) await httpCall("POST", `http://127.0.0.1:${port}/flush`, 15_000);
  }
  const res = await httpCall("GET", `${shop.storeUrl}/kv`, 15_000);
  if (res.status !== 200) throw new Error(`the store answered ${res.status} ${res.error ?? ""} to GET /kv`);
  return { acked: acked.size, lost: missing(acked, JSON.parse(res.body)) };
}

/** The store's data file replayed (its format: `<crc32 hex> <json>` lines): key → value. */
export function replayStoreLog(shop) {
  const file = path.join(shop.home, "data", "store.log");
  const map = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.length < 10) continue;
    const json = line.slice(9);
    if (zlib.crc32(json).toString(16).padStart(8, "0") !== line.slice(0, 8)) continue;
    const rec = JSON.parse(json);
    if (rec.b) Object.assign(map, rec.b);
    else map[rec.k] = rec.v;
  }
  return map;
}
