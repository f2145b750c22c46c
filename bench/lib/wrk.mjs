// wrk for the load benchmarks: installed with apt-get when missing, and its output parsed.
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { which } from "./common.mjs";

/** Installs wrk with apt-get when it is missing (non-interactive, no service started). */
export function ensureWrk(log = console.log) {
  if (which("wrk")) return;
  if (process.getuid?.() !== 0) throw new Error("wrk is not installed: apt-get install wrk (needs root)");
  log("  wrk is missing: apt-get install -y wrk");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const policy = "/usr/sbin/policy-rc.d";
  const wrotePolicy = !fs.existsSync(policy);
  if (wrotePolicy) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const install = () =>
      spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "wrk"], { env, stdio: "inherit" });
    let r = install();
    if (r.status !== 0) {
      spawnSync("apt-get", ["update"], { env, stdio: "inherit" });
      r = install();
    }
    if (r.status !== 0) throw new Error(`apt-get install wrk failed (exit ${r.status})`);
  } finally {
    if (wrotePolicy) fs.rmSync(policy, { force: true });
  }
  if (!which("wrk")) throw new Error("wrk still not on PATH after installing it");
}

/** `250us`, `1.5ms`, `2s`, `1m` → milliseconds. */
export function toMs(value) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value ?? "");
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

/** wrk's figures: requests, req/s, latency percentiles and maximum (ms), and every kind of failure. */
export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out)?.[1]);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const [connect, read, write, timeout] = se ? se.slice(1).map(Number) : [0, 0, 0, 0];
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requests: num(/(\d+) requests in/),
    seconds: toMs(/requests in ([\d.]+\w+),/.exec(out)?.[1]) / 1000,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: toMs(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(out)?.[1]),
    connect,
    read,
    write,
    timeout,
    non2xx,
    failed: connect + read + write + timeout + non2xx,
  };
}
