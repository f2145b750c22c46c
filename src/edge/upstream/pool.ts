/**
 * @module edge/upstream/pool
 * The keep-alive connections from the edge to one replica. Idle connections are reused last in,
 * first out (the warmest first) and closed after `idleTimeoutMs` (or one second before the
 * replica's own `Keep-Alive: timeout`, when it announces one), so the edge — not the replica —
 * closes an idle connection and a request never races the replica's close. One shared, unref'd
 * timer sweeps every pool.
 */
import { UpstreamConnection, type ConnectionOwner } from "./connection.js";

export interface PoolOptions {
  /** Idle connections are closed after this long. @default 2000 */
  idleTimeoutMs: number;
  /** Idle connections kept per replica; more are closed. @default 256 */
  maxIdle: number;
}

export const POOL_DEFAULTS: PoolOptions = { idleTimeoutMs: 2_000, maxIdle: 256 };

const SWEEP_EVERY_MS = 500;
const pools = new Set<UpstreamPool>();
let sweeper: NodeJS.Timeout | undefined;

function sweepAll(): void {
  const now = Date.now();
  for (const pool of pools) pool.sweep(now);
}

export class UpstreamPool implements ConnectionOwner {
  readonly #idle: UpstreamConnection[] = [];
  /** Connections open (idle or busy). */
  #open = 0;
  /** When set, connections are closed after their response instead of kept (drain, removal). */
  #closing = false;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly options: PoolOptions = POOL_DEFAULTS,
  ) {
    pools.add(this);
    if (sweeper === undefined) {
      sweeper = setInterval(sweepAll, SWEEP_EVERY_MS);
      sweeper.unref();
    }
  }

  /** An idle connection, or a new one (connecting). */
  acquire(): UpstreamConnection {
    for (;;) {
      const conn = this.#idle.pop();
      if (conn === undefined) break;
      if (!conn.closed && !conn.socket.destroyed) return conn;
    }
    this.#open += 1;
    return new UpstreamConnection(this);
  }

  release(conn: UpstreamConnection, reusable: boolean): void {
    if (!reusable || this.#closing || this.#idle.length >= this.options.maxIdle) {
      conn.destroy();
      return;
    }
    conn.idleSince = Date.now();
    this.#idle.push(conn);
  }

  closed(conn: UpstreamConnection): void {
    this.#open -= 1;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  /** Closes idle connections older than the idle timeout (or the replica's hint minus a second). */
  sweep(now: number): void {
    if (this.#idle.length === 0) return;
    const keep: UpstreamConnection[] = [];
    for (const conn of this.#idle) {
      const hint = conn.parser.keepAliveHintMs;
      const limit =
        hint === undefined ? this.options.idleTimeoutMs : Math.min(this.options.idleTimeoutMs, hint - 1000);
      if (now - conn.idleSince >= limit) conn.destroy();
      else keep.push(conn);
    }
    this.#idle.length = 0;
    this.#idle.push(...keep);
  }

  /** Closes every idle connection now. */
  closeIdle(): void {
    const idle = this.#idle.splice(0);
    for (const conn of idle) conn.destroy();
  }

  /** Stops keeping connections (drain): idle ones close now, busy ones after their response. */
  setClosing(closing: boolean): void {
    this.#closing = closing;
    if (closing) this.closeIdle();
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  get openCount(): number {
    return this.#open;
  }

  /** Closes idle connections and forgets the pool (busy connections finish, then close). */
  dispose(): void {
    this.setClosing(true);
    pools.delete(this);
    if (pools.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }
}
