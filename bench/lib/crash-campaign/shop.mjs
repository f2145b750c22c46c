// @module bench/lib/crash-campaign/shop
// One shop under test: copies of examples/shop and examples/shop-patching in a temporary directory,
// on free ports, with a job added to the copied topology; the `steward` CLI run against it, its
// control API over the Unix socket, and its state database read-only.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..", "..");
const JOB = path.join(here, "job.mjs");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy; throws after `timeoutMs` with the last error. */
export async function waitFor(what, fn, timeoutMs = 30_000, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`,
      );
    await sleep(everyMs);
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A prefix P such that P0 and P1 are free (the shop's engines listen on `${prefix}${replica}`). */
async function freePrefix() {
  for (;;) {
    const prefix = 2000 + Math.floor(Math.random() * 4000);
    if ((await portFree(prefix * 10)) && (await portFree(prefix * 10 + 1))) return String(prefix);
  }
}

/** The environment of the CLI and of everything it starts: no marker of another Steward home. */
function cleanEnv(extra) {
  const env = { ...process.env, NO_COLOR: "1", ...extra };
  for (const k of Object.keys(env)) if (k.startsWith("STEWARD_") && k !== "STEWARD_CLI") delete env[k];
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * A fresh shop. `variant` "shop": examples/shop (engines on fixed ports, no edge: a restart of the
 * engine is rolling in place). "patching": examples/shop-patching run from two editions behind the
 * edge (a restart of the engine is a surge; cutovers).
 */
export async function createShop({ variant, cli, jobMs = 2500 }) {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stwcc-")));
  const copy = (name) =>
    fs.cpSync(path.join(repoRoot, "examples", name), path.join(tmp, name), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}.steward`),
    });
  copy("shop");
  if (variant === "patching") copy("shop-patching");
  const dir = path.join(tmp, variant === "patching" ? "shop-patching" : "shop");
  const file = path.join(dir, "steward.yaml");
  const jobLog = path.join(tmp, "job.log");
  fs.appendFileSync(
    file,
    `\njobs:\n  compact:\n    command: "node ${JOB}"\n    env: { JOB_LOG: "${jobLog}", JOB_MS: "${jobMs}" }\n`,
  );
  const env = { SHOP_STORE_PORT: String(await freePort()) };
  let targets;
  if (variant === "patching") {
    env.SHOP_EDGE_PORT = String(await freePort());
    targets = [`http://127.0.0.1:${env.SHOP_EDGE_PORT}`];
  } else {
    env.SHOP_ENGINE_PORT_PREFIX = await freePrefix();
    targets = [0, 1].map((i) => `http://127.0.0.1:${env.SHOP_ENGINE_PORT_PREFIX}${i}`);
  }
  const shop = {
    variant,
    tmp,
    dir,
    file,
    home: path.join(dir, ".steward"),
    jobLog,
    cli,
    env: cleanEnv(env),
    storeUrl: `http://127.0.0.1:${env.SHOP_STORE_PORT}`,
    targets,
    patchSeq: 1,
  };
  if (variant === "patching") {
    const init = await run(shop, ["patch", "init", "--from", path.join(tmp, "shop")]);
    if (init.code !== 0) throw new Error(`patch init failed:\n${init.out}`);
  }
  return shop;
}

/** `steward -f <topology> …args` in the background: `{ child, done }`, done → `{ code, out, ms }`. */
export function start(shop, args, timeoutMs = 180_000) {
  const t0 = Date.now();
  const child = spawn(process.execPath, [shop.cli, "-f", shop.file, ...args], {
    cwd: shop.dir,
    env: shop.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (out += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, out, ms: Date.now() - t0 });
    }),
  );
  return { child, done, t0 };
}

/** `steward …args` to its end. */
export const run = (shop, args, timeoutMs) => start(shop, args, timeoutMs).done;

/** `steward …args`, which must succeed. */
export async function must(shop, args, timeoutMs) {
  const r = await run(shop, args, timeoutMs);
  if (r.code !== 0) throw new Error(`steward ${args.join(" ")} exited ${r.code}:\n${r.out.slice(-2000)}`);
  return r;
}

/** The daemon alone, the way the CLI starts it: detached, output appended to daemon.log. */
export function bootDaemon(shop) {
  fs.mkdirSync(path.join(shop.home, "logs"), { recursive: true });
  const fd = fs.openSync(path.join(shop.home, "logs", "daemon.log"), "a");
  const child = spawn(process.execPath, [shop.cli, "daemon", "-f", shop.file], {
    cwd: shop.dir,
    env: shop.env,
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  child.unref();
  return child;
}

/** A request to the control API; resolves `{ status, body }`. */
export function api(shop, method, urlPath, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: path.join(shop.home, "steward.sock"), method, path: urlPath },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer`)));
    req.on("error", reject);
    req.end();
  });
}

/** `GET /v1/status`, parsed. */
export async function status(shop) {
  const res = await api(shop, "GET", "/v1/status");
  if (res.status !== 200) throw new Error(`status answered ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body);
}

/** An HTTP exchange on loopback: `{ status, body }`, or `{ status: 0, error }`. */
export function httpCall(method, url, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    const req = http.request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ status: 0, body: "", error: err.message }));
    req.end();
  });
}

/** Runs `read(db)` on the state database opened read-only; undefined when there is none yet. */
export function readDb(shop, read) {
  let db;
  try {
    db = new Database(path.join(shop.home, "state.db"), { readonly: true, fileMustExist: true });
  } catch {
    return undefined;
  }
  try {
    db.pragma("busy_timeout = 2000");
    return read(db);
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** The pid in `<home>/daemon.pid`, or undefined. */
export function daemonPid(shop) {
  try {
    const pid = Number(fs.readFileSync(path.join(shop.home, "daemon.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The last `n` lines of the daemon log. */
export function daemonLogTail(shop, n = 40) {
  try {
    return fs
      .readFileSync(path.join(shop.home, "logs", "daemon.log"), "utf8")
      .split("\n")
      .slice(-n)
      .join("\n");
  } catch {
    return "(no daemon log)";
  }
}

/** A new patch `ev-<k>` under `<tmp>/patches`, from examples/shop/patches/engine-version-2: version k. */
export function makePatch(shop) {
  const k = ++shop.patchSeq;
  const src = path.join(shop.tmp, "shop", "patches", "engine-version-2");
  const dst = path.join(shop.tmp, "patches", `ev-${k}`);
  fs.cpSync(src, dst, { recursive: true });
  fs.writeFileSync(path.join(dst, "files", "version.txt"), `${k}\n`);
  fs.writeFileSync(
    path.join(dst, "patch.yaml"),
    `id: ev-${k}\ndescription: engine version ${k} (crash campaign)\nsteps:\n  - node build-version.js\nverify:\n  - node check-version.js ${k}\n`,
  );
  return { dir: dst, version: String(k) };
}
