/**
 * @module topology/values-process
 * Leaf schemas for how a process is run, signalled, probed and restarted: commands, signal names,
 * probe targets, log patterns, backoff and restart limits.
 */
import { constants } from "node:os";
import { tryParseDuration } from "./duration.js";
import { didYouMeanSuffix } from "./suggest.js";
import type { CommandSpec } from "./types.js";
import { describeValue, leaf } from "./values.js";

const COMMAND_EXPECTED = "expected a command: a string like `node app.js` or a list like `[node, app.js]`";

/** A command: a non-empty string, or a non-empty list of strings (numbers are turned into strings). */
export const command = leaf<CommandSpec>((v) => {
  if (typeof v === "string" && v.trim() !== "") return { value: v };
  if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === "string" || typeof a === "number")) {
    if (String(v[0]).trim() === "") return { problem: `${COMMAND_EXPECTED}; the program name is empty` };
    return { value: v.map(String) };
  }
  if (Array.isArray(v) && v.length > 0) {
    const bad = v.find((a) => typeof a !== "string" && typeof a !== "number");
    return { problem: `${COMMAND_EXPECTED}; a list item is ${describeValue(bad)}` };
  }
  return { problem: `${COMMAND_EXPECTED}, got ${describeValue(v)}` };
});

/** Signal names Node knows on this platform (`SIGTERM`, `SIGINT`…). */
export const SIGNAL_NAMES: readonly NodeJS.Signals[] = Object.keys(constants.signals) as NodeJS.Signals[];

/** A signal name such as `SIGTERM`; `TERM` or `sigterm` get a did-you-mean. */
export const signal = leaf<NodeJS.Signals>((v) => {
  if (typeof v === "string" && (SIGNAL_NAMES as readonly string[]).includes(v))
    return { value: v as NodeJS.Signals };
  let hint = "";
  if (typeof v === "string") {
    const upper = v.toUpperCase();
    const guess = upper.startsWith("SIG") ? upper : `SIG${upper}`;
    hint = (SIGNAL_NAMES as readonly string[]).includes(guess)
      ? `; did you mean \`${guess}\`?`
      : didYouMeanSuffix(v, SIGNAL_NAMES);
  }
  return { problem: `expected a signal name like \`SIGTERM\`, got ${describeValue(v)}${hint}` };
});

/** A regular expression (checked with `${...}` placeholders filled in). */
export const pattern = leaf<string>((v) => {
  if (typeof v !== "string" || v === "")
    return { problem: `expected a regular expression, got ${describeValue(v)}` };
  try {
    new RegExp(v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, "0"));
    return { value: v };
  } catch (err) {
    return { problem: `\`${v}\` is not a valid regular expression: ${(err as Error).message}` };
  }
});

/** `ready.http` / `health.http`: a path (`/healthz`, resolved against the replica's port) or a URL. */
export const httpTarget = leaf<string>((v) => {
  if (typeof v === "string" && (v.startsWith("/") || /^https?:\/\/\S+$/.test(v))) return { value: v };
  return {
    problem: `expected a path like \`/healthz\` or a URL like \`http://127.0.0.1:\${port}/healthz\`, got ${describeValue(v)}`,
  };
});

/** `ready.tcp` / `health.tcp`: a port (`7001`, `${port}`) or `host:port`. */
export const tcpTarget = leaf<{ host: string; port: string }>((v) => {
  const expected = `expected a port like \`7001\` or \`\${port}\`, or \`host:port\`, got ${describeValue(v)}`;
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : undefined;
  if (s === undefined) return { problem: expected };
  const m = /^(?:(.+):)?(\d+|\$\{port\})$/.exec(s);
  if (!m || (m[2] !== "${port}" && (Number(m[2]) < 1 || Number(m[2]) > 65535))) return { problem: expected };
  return { value: { host: m[1] ?? "127.0.0.1", port: m[2] ?? "" } };
});

/** `restart.backoff`: `100ms..30s` (first delay..longest delay), or one duration for a fixed delay. */
export const backoff = leaf<{ initialMs: number; maxMs: number }>((v) => {
  const expected = `expected a backoff like \`100ms..30s\`, got ${describeValue(v)}`;
  if (typeof v !== "string") return { problem: expected };
  const [a = "", b = a, ...rest] = v.split("..");
  const lo = tryParseDuration(a);
  const hi = tryParseDuration(b);
  if (rest.length > 0 || !lo.ok || !hi.ok) {
    const reason = !lo.ok ? lo.reason : !hi.ok ? hi.reason : "";
    return { problem: reason ? `${expected}: ${reason}` : expected };
  }
  if (lo.value > hi.value) return { problem: `${expected}: the first delay is longer than the longest` };
  return { value: { initialMs: lo.value, maxMs: hi.value } };
});

/** `restart.limit`: `5 in 60s` — at most 5 restarts within 60 s. */
export const restartLimit = leaf<{ count: number; windowMs: number }>((v) => {
  const expected = `expected a limit like \`5 in 60s\`, got ${describeValue(v)}`;
  const m = typeof v === "string" ? /^\s*(\d+)\s+in\s+(\S+)\s*$/.exec(v) : null;
  if (!m) return { problem: expected };
  const w = tryParseDuration(m[2] ?? "");
  if (!w.ok) return { problem: `${expected}: ${w.reason}` };
  if (w.value === 0) return { problem: `${expected}: the window must be longer than 0` };
  return { value: { count: Number(m[1]), windowMs: w.value } };
});
