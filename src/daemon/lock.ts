/**
 * @module daemon/lock
 * One daemon per home. The lock is a Unix socket bound in Linux's abstract namespace
 * (`\0steward-lock-<hash of realpath(home)>`): `bind` is atomic, so of many daemons starting at
 * once exactly one gets it, and the kernel releases it when its process dies, however it dies — no
 * stale lock to recognise, no pid to trust. The holder answers a connection on it with its pid, so
 * a refused daemon can say which one holds the home.
 *
 * Platform: abstract sockets are Linux-only and belong to a network namespace (two daemons in two
 * namespaces on one shared home are not excluded — give each node its own home). The socket is
 * opened close-on-exec (libuv's default), so neither replicas nor the next daemon inherit it.
 *
 * `<home>/daemon.pid` is kept for information (the CLI reads it to tell a crashed daemon): written
 * once the lock is held, removed on an orderly exit, left behind by a crash.
 */
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { DaemonRunningError, StewardError } from "../errors.js";

export interface DaemonLock {
  /** `<home>/daemon.pid`, written for information. */
  file: string;
  /** Removes `daemon.pid` (when it is still ours) and lets the lock go; idempotent. */
  release(): void;
}

/** How long a refused daemon waits for the holder to say its pid. */
const ASK_HOLDER_MS = 2_000;
/** Between two tries while waiting for the lock (`waitMs`). */
const RETRY_MS = 20;

/** The abstract socket name of a home: the same for every path that leads to it. */
export function lockName(home: string): string {
  const digest = createHash("sha256").update(realpathSync(home)).digest("hex").slice(0, 32);
  return `\0steward-lock-${digest}`;
}

/**
 * Takes the lock of `home`, or throws `DaemonRunningError` naming the daemon that holds it.
 * `waitMs`: keep trying that long first (a daemon started by a handover while its predecessor exits).
 */
export async function acquireLock(home: string, opts: { waitMs?: number } = {}): Promise<DaemonLock> {
  const name = lockName(home);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const server = await bind(name);
    if (server) return held(home, server);
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  const pid = (await askHolder(name)) ?? pidInFile(join(home, "daemon.pid"));
  if (pid !== undefined) throw new DaemonRunningError(pid, home);
  throw new StewardError("STW-1005", `a steward daemon is already running on ${home} (its pid is unknown)`, {
    httpStatus: 409,
    details: { home },
  });
}

/** The bound lock socket, or undefined when another process holds the name. */
function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end(`${process.pid}\n`));
    server.once("error", (err: NodeJS.ErrnoException) =>
      err.code === "EADDRINUSE" ? resolve(undefined) : reject(err),
    );
    server.listen(name, () => {
      server.unref(); // the lock alone does not keep the daemon alive
      resolve(server);
    });
  });
}

function held(home: string, server: Server): DaemonLock {
  const file = join(home, "daemon.pid");
  // Written whole then renamed: a reader sees the previous content or ours, never half of it.
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  let released = false;
  return {
    file,
    release: () => {
      if (released) return;
      released = true;
      // The file first: once the socket closes, the next daemon may write its own.
      if (pidInFile(file) === process.pid)
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      server.close();
    },
  };
}

/** Connects to the lock and reads the holder's pid. */
function askHolder(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(name);
    const done = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(ASK_HOLDER_MS, () => done(undefined));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => done(positive(Number(text.trim()))));
    socket.on("error", () => done(undefined));
  });
}

function pidInFile(file: string): number | undefined {
  try {
    return positive(Number(readFileSync(file, "utf8").trim()));
  } catch {
    return undefined;
  }
}

const positive = (n: number): number | undefined => (Number.isInteger(n) && n > 0 ? n : undefined);
