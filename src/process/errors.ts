/**
 * @module process/errors
 * Errors raised while turning a command into a running process. They mirror Node's errno errors
 * (`code` is `ENOENT`, `EACCES`, `EINVAL`, `EADDRINUSE`…) so callers can branch on `err.code`,
 * and their message is what an operator should read ("command `foo` not found in PATH"). The
 * lifecycle wraps them in a `ReplicaError` with the message as the reason.
 */
import type { PortHolder } from "./proc.js";

/** A command could not be started: not found, not executable, malformed, or the OS refused. */
export class SpawnError extends Error {
  /** `ENOENT` (no such program or working directory), `EACCES` (not executable), `EINVAL` (malformed command), or the OS's errno. */
  readonly code: string;
  readonly syscall = "spawn";
  /** The program as written in the command (`node`, `./x.sh`). */
  readonly file: string | undefined;
  /** The absolute path that was tried, when one was. */
  readonly path: string | undefined;

  constructor(code: string, message: string, opts: { file?: string; path?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "SpawnError";
    this.code = code;
    this.file = opts.file;
    this.path = opts.path;
  }
}

/** A port a replica needs is already taken; names the holder when `/proc` tells it. */
export class PortInUseError extends Error {
  readonly code = "EADDRINUSE";
  readonly port: number;
  readonly holder: PortHolder | undefined;

  constructor(port: number, holder: PortHolder | undefined) {
    const by = holder ? ` by pid ${holder.pid} (${holder.command})` : "";
    super(`port ${port} is already in use${by}`);
    this.name = "PortInUseError";
    this.port = port;
    this.holder = holder;
  }
}
