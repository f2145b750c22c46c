/**
 * Helpers of the integration tests: a temporary project per test, the real `steward` CLI (the
 * compiled `dist/`, run `npm run build` first), the daemon's status read over its socket, stamp
 * files written by `test/fixtures/stamp.js`, and a cleanup that leaves no process behind.
 *
 * Importing this module registers an `afterEach` that, for every project the test created, runs
 * `steward down`, then kills whatever is left (the daemon from `<home>/daemon.pid`, every process
 * group seen in a status or recorded in `state.db`, every process whose command line or cwd
 * mentions the project) and removes the directory. A process still running after `down`, or still
 * alive after the kills, fails the test.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, expect } from "vitest";
import { allocatePort } from "../../src/process/index.js";
import type { ReplicaStatus, StatusDocument } from "../../src/daemon/status.js";

export type { ReplicaStatus, StatusDocument };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = path.join(ROOT, "bin", "steward.js");

/** Absolute path of a fixture program in `test/fixtures/`. */
export const fixture = (name: string): string => path.join(ROOT, "test", "fixtures", name);

/** `node <fixture> <args…>` as a topology command string. */
export const node = (name: string, ...args: (string | number)[]): string =>
  [process.execPath, fixture(name), ...args].join(" ");

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where a project keeps its state: `.steward` beside `steward.yaml`. */
export const homeOf = (dir: string): string => path.join(dir, ".steward");
export const socketOf = (dir: string): string => path.join(homeOf(dir), "steward.sock");
export const logOf = (dir: string, component: string, index = 0): string =>
  path.join(homeOf(dir), "logs", component, `${index}.log`);

interface Project {
  dir: string;
  /** Process groups seen in a status document (a replica's pgid is its pid). */
  groups: Set<number>;
}

const projects = new Map<string, Project>();

/**
 * A fresh project directory (short: the socket path must stay under 108 bytes) with
 * `steward.yaml` holding `yaml`; `{dir}` in the text is replaced by the directory.
 */
export function project(yaml: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-")));
  projects.set(dir, { dir, groups: new Set() });
  writeTopology(dir, yaml);
  return dir;
}

/** (Re)writes `<dir>/steward.yaml`; `{dir}` is replaced by the directory. */
export function writeTopology(dir: string, yaml: string): void {
  fs.writeFileSync(path.join(dir, "steward.yaml"), yaml.replaceAll("{dir}", dir));
}

export interface CliResult {
  /** Exit code; null when the command was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `steward <args…>` in `dir` (so `./steward.yaml` is the topology). */
export function steward(dir: string, ...args: string[]): Promise<CliResult> {
  return stewardWith({ timeoutMs: 30_000 }, dir, ...args);
}

export function stewardWith(opts: { timeoutMs: number }, dir: string, ...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.STEWARD_FILE;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, env, timeout: opts.timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** A raw request to the daemon's control API over its Unix socket. */
export function api(
  dir: string,
  method: string,
  urlPath: string,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socketOf(dir), method, path: urlPath, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 10s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** `GET /v1/status`, parsed. Remembers every replica pid (= its process group) for the cleanup. */
export async function status(dir: string): Promise<StatusDocument> {
  const res = await api(dir, "GET", "/v1/status");
  if (res.status !== 200) throw new Error(`GET /v1/status answered ${res.status}: ${res.body}`);
  const doc = JSON.parse(res.body) as StatusDocument;
  const groups = projects.get(dir)?.groups;
  for (const c of doc.components) for (const r of c.replicas) if (r.pid !== null) groups?.add(r.pid);
  return doc;
}

/** The status of replica `index` of `component`; throws when the status has no such replica. */
export function replicaOf(doc: StatusDocument, component: string, index = 0): ReplicaStatus {
  const r = doc.components.find((c) => c.name === component)?.replicas.find((x) => x.index === index);
  if (!r) throw new Error(`no replica ${component}[${index}] in the status`);
  return r;
}

export async function replica(dir: string, component: string, index = 0): Promise<ReplicaStatus> {
  return replicaOf(await status(dir), component, index);
}

/** Polls `fn` until it returns something other than undefined/false; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(everyMs);
  }
}

/** Waits until replica `component[index]` is in `state`; returns its status. */
export function waitForState(
  dir: string,
  component: string,
  state: string,
  timeoutMs = 10_000,
  index = 0,
): Promise<ReplicaStatus> {
  let seen = "";
  return waitFor(
    `${component}[${index}] to be ${state}`,
    async () => {
      const r = await replica(dir, component, index);
      seen = `${r.state} (${r.reason ?? "no reason"})`;
      return r.state === state ? r : undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${seen}`);
  });
}

/** One line of a stamp file: `<name> <event> <epoch ms>`. */
export interface Stamp {
  name: string;
  event: string;
  at: number;
}

export function readStamps(file: string): Stamp[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", event = "", at = ""] = line.split(" ");
      return { name, event, at: Number(at) };
    });
}

/** The stamps of a file, queried by name and event. */
export class Stamps {
  readonly list: Stamp[];
  constructor(file: string) {
    this.list = readStamps(file);
  }
  all(name: string, event: string): number[] {
    return this.list.filter((s) => s.name === name && s.event === event).map((s) => s.at);
  }
  /** The only `event` of `name`; fails when there is none or more than one. */
  one(name: string, event: string): number {
    const found = this.all(name, event);
    expect(found, `exactly one \`${name} ${event}\` stamp in\n${this.toString()}`).toHaveLength(1);
    return found[0]!;
  }
  toString(): string {
    return this.list.map((s) => `${s.name} ${s.event} ${s.at}`).join("\n");
  }
}

/** A TCP port nothing listens on right now (the daemon's own allocator). */
export const freePort = (): Promise<number> => allocatePort();

/** `/proc/<pid>/stat` fields, or undefined when there is no such process. */
export function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text
      .slice(text.lastIndexOf(")") + 2)
      .trim()
      .split(" ");
    return { state: f[0] ?? "", pgrp: Number(f[2]) };
  } catch {
    return undefined;
  }
}

/** True when `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== "Z" && st.state !== "X";
}

interface ProcInfo {
  pid: number;
  pgrp: number;
  cmdline: string;
  cwd: string;
}

function processes(): ProcInfo[] {
  const list: ProcInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      let cwd = "";
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a zombie or a process of another user
      }
      const st = procStat(pid);
      if (st && st.state !== "Z" && st.state !== "X") list.push({ pid, pgrp: st.pgrp, cmdline, cwd });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/** Live processes whose command line mentions `dir` or whose working directory is in it. */
export function processesOf(dir: string): ProcInfo[] {
  return processes().filter((p) => p.cmdline.includes(dir) || p.cwd === dir || p.cwd.startsWith(`${dir}/`));
}

const describeProcs = (list: ProcInfo[]): string =>
  list.map((p) => `pid ${p.pid} (pgid ${p.pgrp}, cwd ${p.cwd}): ${p.cmdline}`).join("\n    ");

/** Waits (briefly) until no live process belongs to `dir`; returns those still there. */
export async function settleProcesses(dir: string, timeoutMs: number): Promise<ProcInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesOf(dir);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

/** Opens `<home>/state.db` read-only. */
export function openStateDb(dir: string): Database.Database {
  return new Database(path.join(homeOf(dir), "state.db"), { readonly: true, fileMustExist: true });
}

/** `PRAGMA integrity_check` of the state database. */
export function integrityCheck(dir: string): string {
  const db = openStateDb(dir);
  try {
    return db.pragma("integrity_check", { simple: true }) as string;
  } finally {
    db.close();
  }
}

function recordedGroups(dir: string): number[] {
  try {
    const db = openStateDb(dir);
    try {
      const rows = db.prepare("SELECT pgid FROM replicas WHERE pgid IS NOT NULL").all() as { pgid: number }[];
      return rows.map((r) => r.pgid);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const ownGroup = procStat(process.pid)?.pgrp;

function killGroup(pgid: number): void {
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === ownGroup) return;
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // gone
  }
}

/** Stops and kills everything of one project, removes it; returns the problems found. */
async function cleanup(p: Project): Promise<string[]> {
  const problems: string[] = [];
  const { dir } = p;
  const daemonPid = readPid(path.join(homeOf(dir), "daemon.pid"));
  if (fs.existsSync(socketOf(dir))) {
    await status(dir).catch(() => undefined); // remember the groups it shows
    for (const g of recordedGroups(dir)) p.groups.add(g);
    const down = await stewardWith({ timeoutMs: 20_000 }, dir, "down");
    if (down.code !== 0) problems.push(`steward down exited ${down.code}: ${down.stdout}${down.stderr}`);
    const left = await settleProcesses(dir, 3_000);
    if (left.length > 0) problems.push(`still running after \`steward down\`:\n    ${describeProcs(left)}`);
  }
  for (const g of recordedGroups(dir)) p.groups.add(g);
  // Whatever happened: the daemon, every group we know of, every process that mentions the project.
  if (daemonPid !== undefined && processesOf(dir).some((x) => x.pid === daemonPid)) killGroupOrPid(daemonPid);
  const mine = processesOf(dir);
  for (const g of p.groups) if (mine.some((x) => x.pgrp === g)) killGroup(g);
  for (const x of mine) killGroupOrPid(x.pid);
  const survivors = await settleProcesses(dir, 3_000);
  if (mine.length > 0 && problems.length === 0)
    problems.push(`left behind by the test (killed by the cleanup):\n    ${describeProcs(mine)}`);
  if (survivors.length > 0) problems.push(`survived SIGKILL:\n    ${describeProcs(survivors)}`);
  // STEWARD_TEST_KEEP=1 keeps the homes to read their logs after a failure.
  if (!process.env.STEWARD_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  return problems;
}

function killGroupOrPid(pid: number): void {
  const st = procStat(pid);
  if (st && st.pgrp === pid) killGroup(pid);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

afterEach(async () => {
  const problems: string[] = [];
  for (const p of [...projects.values()]) {
    projects.delete(p.dir);
    problems.push(...(await cleanup(p)).map((m) => `${p.dir}: ${m}`));
  }
  if (problems.length > 0) throw new Error(`cleanup found problems:\n  ${problems.join("\n  ")}`);
}, 60_000);
