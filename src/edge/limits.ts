/**
 * @module edge/limits
 * Caps on client connections, so that no client — and no flood of clients — can take the daemon's
 * file descriptors: a cap per listener, a cap per client address on each listener, and one
 * edge-wide cap derived from the descriptor limit (`RLIMIT_NOFILE`) minus a reserve kept for the
 * control API and the supervision of replicas. A connection over a cap is refused at once — a
 * `503 TOO_MANY_CONNECTIONS` written without reading anything, then the socket is closed — and
 * counted.
 */
import type net from "node:net";
import { answerBody, type Answer } from "./answers.js";

/** Why a connection was refused. */
export type RefusalReason = "listener" | "client" | "descriptors";

/** The edge's answer code for a refused connection. */
export const TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS";

/** Per listener. */
export interface ListenerCaps {
  /** Client connections open at once on the listener. @default 10000 */
  maxConnections: number;
  /** Client connections open at once from one client address on the listener. @default 256 */
  maxConnectionsPerClient: number;
}

/**
 * Client connections the edge may hold open, over all listeners, for a descriptor limit `soft`
 * with `reserved` descriptors kept for the rest of the daemon: each client connection may hold
 * one connection to a replica as well, hence half of what is left.
 * @example edgeConnectionBudget(1024, 256) // 384
 */
export function edgeConnectionBudget(soft: number | undefined, reserved: number): number {
  if (soft === undefined || !Number.isFinite(soft)) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor((soft - reserved) / 2));
}

/** The edge-wide count, shared by every listener. */
export class ConnectionBudget {
  open = 0;
  constructor(readonly max: number = Number.POSITIVE_INFINITY) {}
}

/** Connections refused, by reason (since the edge started). */
export interface RefusalCounts {
  listener: number;
  client: number;
  descriptors: number;
}

type CountedSocket = net.Socket & { counted?: ConnectionLimits; countedAddress?: string };

/** The counts and caps of one listener. */
export class ConnectionLimits {
  open = 0;
  readonly refused: RefusalCounts = { listener: 0, client: 0, descriptors: 0 };
  readonly #perClient = new Map<string, number>();

  constructor(
    readonly caps: ListenerCaps,
    readonly budget: ConnectionBudget,
  ) {}

  /** Open connections from `address`. */
  openFrom(address: string): number {
    return this.#perClient.get(address) ?? 0;
  }

  /**
   * Counts `socket` in, or refuses it (answered and closed here).
   * @returns true when the connection may be served
   */
  admit(socket: net.Socket): boolean {
    const address = socket.remoteAddress ?? "";
    const fromClient = this.#perClient.get(address) ?? 0;
    const reason: RefusalReason | null =
      this.budget.open >= this.budget.max
        ? "descriptors"
        : this.open >= this.caps.maxConnections
          ? "listener"
          : fromClient >= this.caps.maxConnectionsPerClient
            ? "client"
            : null;
    if (reason !== null) {
      this.refused[reason] += 1;
      refuse(socket, this.#refusal(reason));
      return false;
    }
    this.open += 1;
    this.budget.open += 1;
    this.#perClient.set(address, fromClient + 1);
    const s = socket as CountedSocket;
    s.counted = this;
    s.countedAddress = address;
    socket.once("close", onCountedClose);
    return true;
  }

  release(address: string): void {
    this.open -= 1;
    this.budget.open -= 1;
    const n = (this.#perClient.get(address) ?? 1) - 1;
    if (n <= 0) this.#perClient.delete(address);
    else this.#perClient.set(address, n);
  }

  #refusal(reason: RefusalReason): Answer {
    const [message, limit] =
      reason === "client"
        ? ["too many connections from your address", this.caps.maxConnectionsPerClient]
        : reason === "listener"
          ? ["too many connections on this port", this.caps.maxConnections]
          : ["the proxy is at its connection limit", this.budget.max];
    return {
      status: 503,
      code: TOO_MANY_CONNECTIONS,
      message: `${message} (${limit}); try again later`,
      details: { limit: reason, max: limit },
      retryAfterS: 1,
      close: true,
    };
  }
}

function onCountedClose(this: net.Socket): void {
  const s = this as CountedSocket;
  s.counted?.release(s.countedAddress ?? "");
  s.counted = undefined;
}

function ignore(): void {}

/**
 * Writes the answer without reading the request and closes the socket as soon as the write is
 * flushed (a fresh socket's small write is taken by the kernel at once): the descriptor is
 * released within the tick. A client whose request was already in flight may see a reset instead.
 */
function refuse(socket: net.Socket, a: Answer): void {
  socket.on("error", ignore);
  const body = answerBody(a);
  const text =
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nRetry-After: ${a.retryAfterS ?? 1}\r\nConnection: close\r\n\r\n${body}`;
  socket.write(text, () => socket.destroy());
  // Whatever happens to the write, the descriptor does not outlive this turn of the event loop by much.
  setImmediate(() => {
    if (socket.writableLength > 0) socket.destroy();
  });
}
