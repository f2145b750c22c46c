// What the benchmarks share: paths, the programs they run, the environment they run them in,
// cleanups, running commands, supervisord's installation, Steward topologies and the reports.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { TAG_VAR } from "./proc.mjs";

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const root = path.resolve(benchDir, "..");
export const resultsDir = path.join(benchDir, "results");
export const SLEEPER = path.join(benchDir, "fixtures", "sleeper.mjs");
export const NODE = process.execPath;
export const NODE_EXE = fs.realpathSync(NODE);
export const SLEEP = ["/bin/sleep", "/usr/bin/sleep"].find((p) => fs.existsSync(p)) ?? "sleep";
// Makes every node process read and parse a CA bundle at boot (~0.1 s of CPU each): not part of
// what is measured, and it would dominate it. Removed unless --keep-env.
export const STRIPPED_ENV = ["NODE_EXTRA_CA_CERTS"];

/** The program the supervisors run: its executable (as /proc/<pid>/exe shows it) and argv. */
export function program(kind) {
  return kind === "node"
    ? { exe: NODE_EXE, argv: [NODE, SLEEPER], label: "bench/fixtures/sleeper.mjs" }
    : { exe: fs.realpathSync(SLEEP), argv: [SLEEP, "infinity"], label: `${SLEEP} infinity` };
}

/** The environment of everything a benchmark runs (CLIs, daemons, programs), and what was removed. */
export function benchEnv(keepEnv) {
  const env = { ...process.env };
  const stripped = keepEnv ? [] : STRIPPED_ENV.filter((k) => k in env);
  for (const k of stripped) delete env[k];
  return { env, stripped };
}

/**
 * Cleanups run in reverse order on success, error and Ctrl-C; each is removed once it ran. The
 * first SIGINT/SIGTERM runs them and exits 130 (after `onSignalExit`); a second one exits at once.
 */
export class Cleanups {
  #fns = [];
  interrupted = false;
  push(fn) {
    this.#fns.push(fn);
  }
  async run() {
    while (this.#fns.length > 0) {
      const fn = this.#fns.pop();
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err.message}`);
      }
    }
  }
  onSignals(onSignalExit = () => {}) {
    for (const sig of ["SIGINT", "SIGTERM"]) {
      process.on(sig, () => {
        if (this.interrupted) process.exit(130);
        this.interrupted = true;
        console.error(`\n${sig}: cleaning up (again to force)`);
        void this.run()
          .then(onSignalExit)
          .finally(() => process.exit(130));
      });
    }
    return this;
  }
}

/**
 * Returns `runCommand(label, argv, options)`: stdout/stderr go to files under `dir` (a daemon
 * started by the command may inherit them, so waiting for pipes to close could hang); the time is
 * taken at the command's exit.
 */
export function commandRunner(dir, defaultEnv) {
  let seq = 0;
  return async function runCommand(
    label,
    argv,
    { env = defaultEnv, cwd = root, timeoutMs = 300_000, allowFail = false } = {},
  ) {
    const base = path.join(dir, "cmd", `${String(++seq).padStart(4, "0")}`);
    fs.mkdirSync(path.dirname(base), { recursive: true });
    const outFd = fs.openSync(`${base}.out`, "w");
    const errFd = fs.openSync(`${base}.err`, "w");
    const t0 = performance.now();
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ["ignore", outFd, errFd] });
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
    const { code, signal } = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", (err) => (clearTimeout(timer), reject(err)));
      child.on("exit", (c, s) => (clearTimeout(timer), resolve({ code: c, signal: s })));
    });
    const seconds = (performance.now() - t0) / 1000;
    const stdout = fs.readFileSync(`${base}.out`, "utf8");
    const stderr = fs.readFileSync(`${base}.err`, "utf8");
    if (code !== 0 && !allowFail) {
      const tail = (stdout + stderr).trim().split("\n").slice(-15).join("\n");
      throw new Error(`${label} failed (exit ${code ?? signal}) after ${seconds.toFixed(2)} s:\n${tail}`);
    }
    return { code, seconds, stdout, stderr };
  };
}

export function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = path.join(dir || ".", cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------
/**
 * Installs Debian packages with apt-get when their program is missing (non-interactive; no service
 * is started while installing). `wanted`: [program, package] pairs.
 */
export function ensurePackages(wanted, log = console.log) {
  const missing = [...new Set(wanted.filter(([bin]) => !which(bin)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing ${missing.join(", ")}: apt-get install ${missing.join(" ")} (needs root)`);
  log(`  installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Keep packages (haproxy, supervisor) from starting their system-wide service while installing.
  const policy = "/usr/sbin/policy-rc.d";
  const wrotePolicy = !fs.existsSync(policy);
  if (wrotePolicy) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const install = () =>
      spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
        env,
        stdio: "inherit",
      });
    let r = install();
    if (r.status !== 0) {
      spawnSync("apt-get", ["update"], { env, stdio: "inherit" });
      r = install();
    }
    if (r.status !== 0) throw new Error(`apt-get install ${missing.join(" ")} failed (exit ${r.status})`);
  } finally {
    if (wrotePolicy) fs.rmSync(policy, { force: true });
  }
  for (const [bin, pkg] of wanted)
    if (!which(bin)) throw new Error(`${bin} still missing after installing ${pkg}`);
}

/** supervisord: Debian's package `supervisor`. */
export function ensureSupervisord(log = console.log) {
  ensurePackages(
    [
      ["supervisord", "supervisor"],
      ["supervisorctl", "supervisor"],
    ],
    log,
  );
}

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Steward.
/** The CLI entry point: bin/steward.js, or STEWARD_CLI=file (run with the same node). */
export function stewardCli() {
  return process.env.STEWARD_CLI
    ? path.resolve(process.env.STEWARD_CLI)
    : path.join(root, "bin", "steward.js");
}
/** Why Steward cannot be benchmarked (not built), or undefined. */
export function stewardMissing() {
  if (!process.env.STEWARD_CLI && !fs.existsSync(path.join(root, "dist", "cli", "main.js")))
    return "skipped: Steward is not built (no dist/cli/main.js); run `npm run build` first";
  return undefined;
}

function yamlString(s) {
  return JSON.stringify(s); // a JSON string is a valid YAML scalar
}
/**
 * Writes `<dir>/steward.yaml`. Each component: `{ name, command, tag, replicas?, dependsOn?, tcp?,
 * restart? }` (`restart`: the policy, default "no"; null leaves Steward's default).
 */
export function stewardTopology(dir, name, components, { home } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const lines = [`name: ${name}`];
  if (home) lines.push(`home: ${yamlString(home)}`);
  lines.push("components:");
  for (const c of components) {
    lines.push(`  ${c.name}:`);
    lines.push(`    command: ${yamlString(c.command)}`);
    if (c.replicas) lines.push(`    replicas: ${c.replicas}`);
    lines.push(`    env: { ${TAG_VAR}: ${yamlString(c.tag)} }`);
    if (c.dependsOn) lines.push(`    depends_on: { ${c.dependsOn}: ready }`);
    if (c.tcp) lines.push(`    ready: { tcp: ${c.tcp}, within: 10s }`);
    lines.push("    stop: { grace: 5s }");
    if (c.restart !== null) lines.push(`    restart: { policy: ${yamlString(c.restart ?? "no")} }`);
  }
  const file = path.join(dir, "steward.yaml");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

// ---------------------------------------------------------------------------------------------
// Reports.
/** Versions of what was measured and of the machine. */
export function versions() {
  const v = {
    node: process.version,
    kernel: os.release(),
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "?",
  };
  try {
    v.pm2 = JSON.parse(
      fs.readFileSync(path.join(root, "node_modules", "pm2", "package.json"), "utf8"),
    ).version;
  } catch {
    // not installed
  }
  const r = spawnSync("supervisord", ["--version"], { encoding: "utf8" });
  if (r.status === 0) v.supervisord = r.stdout.trim();
  return v;
}

/** Steward's version and the commit its working tree is at (`+changes` when src/ has uncommitted edits). */
export function stewardVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
  const git = (...args) => spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
  const head = git("rev-parse", "--short", "HEAD");
  if (head.status !== 0) return pkg;
  const dirty = git("status", "--porcelain", "--", "src").stdout.trim() !== "";
  return `${pkg} (${head.stdout.trim()}${dirty ? "+changes in src/" : ""})`;
}

/** Writes `bench/results/<base>.md` and `.json`; returns the path without extension. */
export function saveResults(base, md, json) {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, base);
  fs.writeFileSync(`${file}.md`, md);
  fs.writeFileSync(`${file}.json`, JSON.stringify(json, null, 2) + "\n");
  return file;
}
