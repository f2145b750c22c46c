/**
 * @module process/probes
 * One attempt of each probe kind (tcp, http, exec, log). Each answers `{ ok, detail }` where the
 * detail is what an operator reads ("tcp 127.0.0.1:7001: ECONNREFUSED", "http …/healthz: 503").
 * `createProbe()` binds a compiled `ProbeSpec` to a replica; readiness (`waitReady`) and the
 * edge's health checks repeat it.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import type { CommandSpec, ProbeSpec } from "../topology/types.js";
import { formatMs } from "./duration.js";
import { runHook } from "./spawn.js";

/** The outcome of one probe attempt. */
export interface ProbeResult {
  ok: boolean;
  /** Human-readable: `tcp 127.0.0.1:7001: ECONNREFUSED`, `http http://127.0.0.1:7001/healthz: 503`. */
  detail: string;
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/**
 * Connects to `host:port`; passes when the connection is accepted.
 * @example await probeTcp("127.0.0.1", 7001, 1000) // { ok: false, detail: "tcp 127.0.0.1:7001: ECONNREFUSED" }
 */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const label = `tcp ${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean, why: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail: `${label}: ${why}` });
    };
    const timer = setTimeout(() => done(false, `timed out after ${formatMs(timeoutMs)}`), timeoutMs);
    socket.once("connect", () => done(true, "connected"));
    socket.once("error", (err) => done(false, errorCode(err)));
  });
}

/**
 * GETs `url` (http or https; certificates are not verified: this checks a local replica, not
 * its identity) and drains the body; a 2xx or 3xx status passes.
 * @example await probeHttp("http://127.0.0.1:7001/healthz", 1000) // { ok: false, detail: "http http://127.0.0.1:7001/healthz: 503" }
 */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const label = `http ${url}`;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, detail: `${label}: invalid URL` });
  }
  const client = target.protocol === "https:" ? https : target.protocol === "http:" ? http : undefined;
  if (!client)
    return Promise.resolve({ ok: false, detail: `${label}: unsupported protocol ${target.protocol}` });
  return new Promise((resolve) => {
    let status: number | undefined;
    const done = (why?: string): void => {
      clearTimeout(timer);
      req.destroy();
      if (status === undefined) resolve({ ok: false, detail: `${label}: ${why ?? "no response"}` });
      else resolve({ ok: status >= 200 && status < 400, detail: `${label}: ${status}` });
    };
    const req = client.get(target, { agent: false, rejectUnauthorized: false }, (res) => {
      status = res.statusCode ?? 0;
      res.once("end", () => done());
      res.once("error", () => done());
      res.resume();
    });
    req.once("error", (err) => done(errorCode(err)));
    const timer = setTimeout(() => done(`timed out after ${formatMs(timeoutMs)}`), timeoutMs);
  });
}

export interface ExecProbeOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The command's output is appended here (the replica's log). */
  logFile: string;
  timeoutMs: number;
}

function showCommand(command: CommandSpec): string {
  const text = Array.isArray(command) ? command.join(" ") : command;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Runs `command` (see `runHook`); exit code 0 passes.
 * @example await probeExec("pg_isready -q", opts) // { ok: false, detail: "exec `pg_isready -q`: exit 2" }
 */
export async function probeExec(command: CommandSpec, opts: ExecProbeOptions): Promise<ProbeResult> {
  const label = `exec \`${showCommand(command)}\``;
  try {
    const r = await runHook({ command, ...opts });
    if (r.timedOut) return { ok: false, detail: `${label}: timed out after ${formatMs(opts.timeoutMs)}` };
    if (r.signal) return { ok: false, detail: `${label}: killed by ${r.signal}` };
    return { ok: r.exitCode === 0, detail: `${label}: exit ${r.exitCode}` };
  } catch (err) {
    return { ok: false, detail: `${label}: ${(err as Error).message}` };
  }
}

/** Where a log probe stopped scanning, so the next attempt reads only what was appended since. */
export interface LogCursor {
  /** Next byte to read. */
  offset: number;
  /** Bytes scanned so far. */
  scanned: number;
  /** The last, incomplete line. */
  pending: string;
  decoder: StringDecoder;
  /** The line that matched, once one has. */
  matched: string | undefined;
}

/** A fresh cursor at `fromOffset` (the log size when the replica was spawned). */
export function logCursor(fromOffset: number): LogCursor {
  return {
    offset: fromOffset,
    scanned: 0,
    pending: "",
    decoder: new StringDecoder("utf8"),
    matched: undefined,
  };
}

const CHUNK = 64 * 1024;
const MAX_PENDING = 64 * 1024;

/**
 * Matches `regex` against each line the replica wrote to `logFile` since `fromOffset`. Pass the
 * same `cursor` to repeated calls and each reads only the new bytes. A file that shrank (rotated)
 * is read again from its start.
 * @example await probeLog(logFile, spawned.logOffset, /ready to serve/, cursor) // { ok: true, detail: "log /ready to serve/: matched `ready to serve`" }
 */
export async function probeLog(
  logFile: string,
  fromOffset: number,
  regex: RegExp,
  cursor: LogCursor = logCursor(fromOffset),
): Promise<ProbeResult> {
  const label = `log ${regex}`;
  const matches = (line: string): boolean => {
    regex.lastIndex = 0;
    return regex.test(line);
  };
  const hit = (line: string): ProbeResult => {
    cursor.matched = line;
    return { ok: true, detail: `${label}: matched \`${line.trim().slice(0, 200)}\`` };
  };
  if (cursor.matched !== undefined) return hit(cursor.matched);
  let fh;
  try {
    fh = await open(logFile, "r");
  } catch (err) {
    return { ok: false, detail: `${label}: ${errorCode(err)}` };
  }
  try {
    const { size } = await fh.stat();
    if (size < cursor.offset)
      Object.assign(cursor, { offset: 0, pending: "", decoder: new StringDecoder("utf8") });
    const buf = Buffer.allocUnsafe(CHUNK);
    while (cursor.offset < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, size - cursor.offset), cursor.offset);
      if (bytesRead === 0) break;
      cursor.offset += bytesRead;
      cursor.scanned += bytesRead;
      const lines = (cursor.pending + cursor.decoder.write(buf.subarray(0, bytesRead))).split("\n");
      cursor.pending = (lines.pop() ?? "").slice(-MAX_PENDING);
      for (const line of lines) if (matches(line.replace(/\r$/, ""))) return hit(line);
    }
    if (cursor.pending && matches(cursor.pending)) return hit(cursor.pending);
    return { ok: false, detail: `${label}: no match in ${cursor.scanned} bytes of output` };
  } finally {
    await fh.close();
  }
}

/** What a probe needs to know about the replica it checks. */
export interface ProbeContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The replica's log: exec probe output goes here, log probes read it. */
  logFile: string;
  /** Log size when the replica was spawned (`SpawnedReplica.logOffset`). */
  logOffset: number;
  /**
   * The replica's allocated port: an http `url` that is a path is resolved against
   * `http://<STEWARD_ADVERTISE of env, else 127.0.0.1>:<port>`.
   */
  port?: number;
}

/** One attempt; `timeoutMs` defaults to the spec's and may be shortened by the caller. */
export type Probe = (timeoutMs?: number) => Promise<ProbeResult>;

/**
 * Binds a compiled, rendered `ProbeSpec` to a replica. The returned function runs one attempt;
 * a log probe keeps its scan position between attempts. Throws `RangeError` for a spec that
 * cannot work (non-numeric port, invalid pattern, a path URL without a port).
 */
export function createProbe(spec: ProbeSpec, ctx: ProbeContext): Probe {
  switch (spec.kind) {
    case "tcp": {
      const port = Number(spec.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        throw new RangeError(`tcp probe: port must be a number from 1 to 65535, got \`${spec.port}\``);
      }
      return (t) => probeTcp(spec.host, port, t ?? spec.timeoutMs);
    }
    case "http": {
      let url = spec.url;
      if (url.startsWith("/")) {
        if (ctx.port === undefined)
          throw new RangeError(`http probe: \`${url}\` is a path but the replica has no port`);
        // In a cluster a replica listens on its node's advertised address (other nodes' edges reach
        // it there, docs/edge.md), which its environment carries; elsewhere on the loopback.
        const host = ctx.env.STEWARD_ADVERTISE || "127.0.0.1";
        url = `http://${host.includes(":") ? `[${host}]` : host}:${ctx.port}${url}`;
      }
      return (t) => probeHttp(url, t ?? spec.timeoutMs);
    }
    case "exec":
      return (t) =>
        probeExec(spec.command, {
          cwd: ctx.cwd,
          env: ctx.env,
          logFile: ctx.logFile,
          timeoutMs: t ?? spec.timeoutMs,
        });
    case "log": {
      let regex: RegExp;
      try {
        regex = new RegExp(spec.pattern);
      } catch (err) {
        throw new RangeError(`log probe: invalid pattern /${spec.pattern}/: ${(err as Error).message}`);
      }
      const cursor = logCursor(ctx.logOffset);
      return () => probeLog(ctx.logFile, ctx.logOffset, regex, cursor);
    }
  }
}
