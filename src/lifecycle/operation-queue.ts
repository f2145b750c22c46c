/**
 * @module lifecycle/operation-queue
 * Operations on the same component never run at the same time: each one asked waits for every
 * operation asked before it that touches one of its components (a per-component queue, in the
 * order asked), so the last one asked runs last and its outcome is the one that stays.
 *
 * A later operation **supersedes** one still queued (not yet running) when it makes it moot — it
 * touches every component the queued one would, and its own outcome does not depend on the queued
 * one having run (`SUPERSEDES`): `stop` after a queued `restart`, a second `restart` after a
 * queued one. The superseded operation never runs; its caller gets the later one's outcome. An
 * operation already running is never superseded: the later one waits for it. Every decision is
 * reported through `notice`, for the operator (progress line, daemon log) and the journal.
 */
import type { OperationKind } from "../store/records.js";
import { deferred, type Deferred } from "./deferred.js";

/** One operation asked: its journal id and every component its plan touches. */
export interface QueueTicket {
  id: string;
  kind: OperationKind;
  /** The names as the operator gave them (empty: all). */
  targets: readonly string[];
  components: ReadonlySet<string>;
}

/** What the queue decided for an operation, as it decides it. */
export type QueueNotice =
  | { type: "waiting"; ticket: QueueTicket; behind: QueueTicket[] }
  | { type: "superseded"; ticket: QueueTicket; by: QueueTicket }
  | { type: "withdrawn"; ticket: QueueTicket; reason: string };

/** An operation's answer: its own outcome, or (superseded) the outcome of the one that replaced it. */
export interface QueueOutcome<T> {
  value: T;
  /** The later operation that made this one moot; it never ran. */
  supersededBy?: QueueTicket;
}

/**
 * Which queued kinds a later kind makes moot (when it touches all of their components). A start
 * after a queued stop does not: stop-then-start restarts the processes, start alone does not.
 * Maintenance and cutover never supersede: they can be refused (already in maintenance, phase
 * order), and what they would have replaced must then still happen.
 */
const SUPERSEDES: Partial<Record<OperationKind, readonly OperationKind[]>> = {
  stop: ["start", "stop", "restart"],
  down: ["start", "stop", "restart", "up"],
  restart: ["start", "restart"],
  start: ["start"],
  up: ["start", "up"],
};

interface Entry {
  ticket: QueueTicket;
  running: boolean;
  supersededBy?: QueueTicket;
  /** Taken out of the queue before its turn (`withdraw`): it never runs. */
  withdrawn?: boolean;
  /** Resolves once the entry is out of the way of later ones (it ran, or was superseded). */
  settled: Deferred<void>;
  /** Its outcome, or that of the entry that superseded it. */
  final: Deferred<unknown>;
}

/** Per-component queue of operations; see the module comment. */
export class OperationQueue {
  readonly #entries: Entry[] = [];
  readonly #notice: (notice: QueueNotice) => void;

  constructor(notice: (notice: QueueNotice) => void) {
    this.#notice = notice;
  }

  /** The operations asked and not finished, in the order asked; `running` or waiting their turn. */
  get pending(): { ticket: QueueTicket; running: boolean }[] {
    return this.#entries.map((e) => ({ ticket: e.ticket, running: e.running }));
  }

  /**
   * Queue `run` under `ticket`. Decides synchronously (call it in the order operations are asked):
   * supersedes the queued entries this one makes moot, then waits for every earlier entry that
   * shares a component. Resolves with `run`'s value, or the superseding operation's.
   */
  submit<T>(ticket: QueueTicket, run: () => Promise<T>): Promise<QueueOutcome<T>> {
    const entry: Entry = { ticket, running: false, settled: deferred<void>(), final: deferred<unknown>() };
    for (const queued of [...this.#entries]) {
      if (queued.running || !supersedes(ticket, queued.ticket)) continue;
      this.#remove(queued);
      queued.supersededBy = ticket;
      entry.final.promise.then(queued.final.resolve, queued.final.reject);
      queued.settled.resolve();
      this.#notice({ type: "superseded", ticket: queued.ticket, by: ticket });
    }
    const ahead = this.#entries.filter((e) => overlaps(e.ticket.components, ticket.components));
    this.#entries.push(entry);
    if (ahead.length > 0) this.#notice({ type: "waiting", ticket, behind: ahead.map((e) => e.ticket) });
    void this.#turn(entry, ahead, run);
    // Only kinds with the same answer type supersede each other (SUPERSEDES): `value` is a T.
    return entry.final.promise.then((value) => ({
      value: value as T,
      ...(entry.supersededBy ? { supersededBy: entry.supersededBy } : {}),
    }));
  }

  async #turn<T>(entry: Entry, ahead: Entry[], run: () => Promise<T>): Promise<void> {
    await Promise.all(ahead.map((e) => e.settled.promise));
    if (entry.supersededBy || entry.withdrawn) return;
    entry.running = true;
    try {
      entry.final.resolve(await run());
    } catch (err) {
      entry.final.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#remove(entry);
      entry.settled.resolve();
    }
  }

  /**
   * Take out every queued (not running) entry `match` selects: it never runs, and its caller gets
   * `refusal` (an operation that a later one makes impossible rather than moot, such as a cutover
   * queued when `down` is asked). Returns the tickets taken out.
   */
  withdraw(match: (ticket: QueueTicket) => boolean, refusal: () => Error): QueueTicket[] {
    const out = this.#entries.filter((e) => !e.running && match(e.ticket));
    for (const entry of out) {
      this.#remove(entry);
      entry.withdrawn = true;
      const error = refusal();
      entry.final.reject(error);
      entry.settled.resolve();
      this.#notice({ type: "withdrawn", ticket: entry.ticket, reason: error.message });
    }
    return out.map((e) => e.ticket);
  }

  #remove(entry: Entry): void {
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
  }
}

function supersedes(later: QueueTicket, queued: QueueTicket): boolean {
  if (!(SUPERSEDES[later.kind] ?? []).includes(queued.kind)) return false;
  for (const c of queued.components) if (!later.components.has(c)) return false;
  return true;
}

function overlaps(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const c of a) if (b.has(c)) return true;
  return false;
}

/** `restart engine`, `maintenance on (all)`: an operation as the operator typed it. */
export function describeTicket(t: Pick<QueueTicket, "kind" | "targets">): string {
  const targets = t.targets.filter((x) => !x.startsWith("session ") && !x.startsWith("--"));
  const kind = t.kind.replace("-", " ");
  if (t.kind === "cutover") return `patch cutover`;
  return `${kind}${t.kind === "down" ? "" : ` ${targets.join(" ") || "(all)"}`}`;
}
