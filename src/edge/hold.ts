/**
 * @module edge/hold
 * A route's hold (design §5): while its component has no routable replica, new requests wait in a
 * bounded FIFO queue for a bounded time, and are released, in order, when a replica becomes
 * routable. Past either bound a request gets the `503`. Since every request waits the same time,
 * deadlines are in queue order and one timer (for the oldest) serves the whole queue.
 */

/** What the queue needs of a held request. */
export interface Holdable {
  /** Epoch ms when it stops waiting (set when first queued, kept when queued again). */
  heldUntil: number;
  /** True while it is in the queue. */
  held: boolean;
}

export class HoldQueue<T extends Holdable> {
  #items: T[] = [];
  #head = 0;
  #live = 0;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param timeoutMs how long a request may wait @default 10000 (compiled)
   * @param maxQueued how many may wait at once @default 1000 (compiled)
   * @param expire called for a request that waited `timeoutMs` (answer it `503`)
   */
  constructor(
    readonly timeoutMs: number,
    readonly maxQueued: number,
    readonly expire: (item: T) => void,
  ) {}

  /** Requests waiting now. */
  get size(): number {
    return this.#live;
  }

  /** Queues `item`; false when the queue is full (answer it `503`). */
  add(item: T): boolean {
    if (this.#live >= this.maxQueued) return false;
    if (item.heldUntil === 0) item.heldUntil = Date.now() + this.timeoutMs;
    item.held = true;
    this.#items.push(item);
    this.#live += 1;
    if (this.#timer === undefined) this.#arm();
    return true;
  }

  /** Takes `item` out (its client went away). */
  cancel(item: T): void {
    if (!item.held) return;
    item.held = false;
    this.#live -= 1;
    if (this.#live === 0) this.#reset();
  }

  /** Takes every waiting request out, oldest first. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (!item.held) continue;
      item.held = false;
      out.push(item);
    }
    this.#reset();
    return out;
  }

  #reset(): void {
    this.#items = [];
    this.#head = 0;
    this.#live = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#head < this.#items.length && !(this.#items[this.#head] as T).held) this.#head++;
    const first = this.#items[this.#head];
    if (first === undefined) {
      this.#reset();
      return;
    }
    this.#timer = setTimeout(() => this.#expireDue(), Math.max(0, first.heldUntil - Date.now()));
  }

  #expireDue(): void {
    this.#timer = undefined;
    const now = Date.now();
    const due: T[] = [];
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head] as T;
      if (item.held && item.heldUntil > now) break;
      this.#head++;
      if (!item.held) continue;
      item.held = false;
      this.#live -= 1;
      due.push(item);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
    for (const item of due) this.expire(item);
  }
}
