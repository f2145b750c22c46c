// wrk for the load benchmarks: installed with apt-get when missing, and its output parsed.
import { ensurePackages } from "./common.mjs";

/** Installs Debian's wrk with apt-get when it is missing. */
export function ensureWrk(log = console.log) {
  ensurePackages([["wrk", "wrk"]], log);
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
