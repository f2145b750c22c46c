/**
 * @module cluster/lease
 * This node's side of the **primary** lease: whether it may act as primary *now*, by its own
 * monotonic clock — never by the database's answer alone, which may be old by the time it is read.
 *
 * The rule (docs/cluster.md has the argument): before sending a renewal the holder notes
 * `sentAt` on its monotonic clock; the database sets `expires_at` = (its time when it runs the
 * statement) + term, which is after `sentAt` + term however long the request took. The holder
 * acts as primary only until `sentAt + term − margin`, so it stops before the lease can expire
 * in the database, and at once on a renewal that fails or answers that another node holds it.
 * A paused process (GC, SIGSTOP) that wakes checks the clock before its next write, and the
 * write itself is fenced in the database on the epoch.
 */
import { performance } from "node:perf_hooks";

export type LeaseRole = "primary" | "follower";

/** Why this node stopped acting as primary (for the log and status). */
export type StepDownReason =
  "renewal failed" | "term elapsed without renewal" | "held by another node" | "released";

export class PrimaryLease {
  readonly #termMs: number;
  readonly #marginMs: number;
  #epoch: number | null = null;
  /** Monotonic ms after which this node no longer acts as primary. */
  #actUntil = 0;
  /** Monotonic ms when the last renewal that succeeded was sent. */
  #renewedSentAt = 0;
  #onChange: (role: LeaseRole, epoch: number | null, why?: StepDownReason) => void;

  /**
   * @param termMs the lease term (`cluster.lease`).
   * @param onChange called on every change of role, with the reason when stepping down.
   */
  constructor(
    termMs: number,
    onChange: (role: LeaseRole, epoch: number | null, why?: StepDownReason) => void,
  ) {
    this.#termMs = termMs;
    // Room for the holder to notice and stop before expiry: 10 % of the term, at least 100 ms.
    this.#marginMs = Math.max(100, Math.floor(termMs / 10));
    this.#onChange = onChange;
  }

  static now(): number {
    return performance.now();
  }

  get marginMs(): number {
    return this.#marginMs;
  }

  /** The epoch this node acts under, or null when it must not act as primary now. */
  epochNow(now = PrimaryLease.now()): number | null {
    if (this.#epoch !== null && now >= this.#actUntil) this.stepDown("term elapsed without renewal");
    return this.#epoch;
  }

  /** Monotonic ms until which this node may act as primary (0 when it may not). */
  get actUntil(): number {
    return this.#epoch === null ? 0 : this.#actUntil;
  }

  /** Whether the next heartbeat should try the lease: always when not holding; at half the term when holding. */
  wantsLease(now = PrimaryLease.now()): boolean {
    return this.epochNow(now) === null || now - this.#renewedSentAt >= this.#termMs / 2;
  }

  /** The epoch to send with a renewal (null when not holding). */
  get believedEpoch(): number | null {
    return this.#epoch;
  }

  /**
   * The database's answer to a heartbeat sent at `sentAt` that asked for the lease (`tried`):
   * who holds it now and at which epoch.
   */
  answered(
    sentAt: number,
    tried: boolean,
    me: string,
    holder: string | null,
    epoch: number,
    leftMs: number,
  ): void {
    if (holder !== me || leftMs <= 0) {
      if (this.#epoch !== null) this.stepDown("held by another node");
      return;
    }
    if (!tried) return; // a read of our own lease: it does not extend what we may do
    const was = this.#epoch;
    this.#epoch = epoch;
    this.#renewedSentAt = sentAt;
    this.#actUntil = sentAt + this.#termMs - this.#marginMs;
    if (was !== epoch) this.#onChange("primary", epoch);
  }

  /** A heartbeat failed: stop acting as primary at once. */
  failed(): void {
    if (this.#epoch !== null) this.stepDown("renewal failed");
  }

  stepDown(why: StepDownReason): void {
    if (this.#epoch === null) return;
    this.#epoch = null;
    this.#actUntil = 0;
    this.#onChange("follower", null, why);
  }
}
