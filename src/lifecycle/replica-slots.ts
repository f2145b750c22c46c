/**
 * @module lifecycle/replica-slots
 * A component's replicas by slot. Slot `i` (0 ≤ i < n, n = the component's `replicas`) is served by
 * replica `i` or by its alternate `i + n`: a surge replacement (rolling restart, cutover) starts the
 * slot's other index beside the one serving, waits until it is ready, then retires the old one. The
 * two are distinct replicas — each its own state record, log file, `${replica}` value and orphan
 * marker — so a daemon crash in the middle leaves nothing ambiguous:
 *
 * - both alive, one of them draining or stopping: the other serves; the stop continues;
 * - both alive, neither stopping (the crash came before the switch): the older serves and the
 *   unfinished replacement is retired through the stop budget;
 * - one alive: it serves; none: the one updated last (so `${replica}` stays what it was).
 *
 * A cutover that had switched routing before the crash names its new replicas (`preferred`): those
 * serve, whatever their age.
 */
import type { ReplicaRecord } from "../store/records.js";
import type { CompiledComponent } from "../topology/types.js";
import { Replica, type ReplicaDeps } from "./replica.js";
import { LIVE_STATES } from "./replica-state.js";

const STOPPING = new Set(["draining", "stopping"]);

export class ReplicaSlots {
  readonly #spec: CompiledComponent;
  readonly #deps: ReplicaDeps;
  readonly #records: ReplicaRecord[];
  /** Every replica object made so far, by index (0 … 2n-1). */
  readonly #byIndex = new Map<number, Replica>();
  /** The replica serving each slot, by slot. */
  readonly active: Replica[];
  /** Replacements started beside the replica serving their slot, not yet promoted. */
  readonly joining = new Set<Replica>();
  /** Replicas on their way out: a replaced one draining, or a replacement left unfinished by a crash. */
  readonly retiring = new Set<Replica>();

  readonly #preferred: ReadonlySet<number>;

  constructor(
    spec: CompiledComponent,
    deps: ReplicaDeps,
    records: readonly ReplicaRecord[],
    preferred: readonly number[] = [],
  ) {
    this.#spec = spec;
    this.#preferred = new Set(preferred);
    this.#deps = deps;
    this.#records = records.filter((r) => r.component === spec.name && r.index < 2 * spec.replicas);
    this.active = Array.from({ length: spec.replicas }, (_, slot) => this.#choose(slot));
  }

  /** The slot an index belongs to. */
  slotOf(index: number): number {
    return index % this.#spec.replicas;
  }

  /** The replica with `index`, serving, retiring or idle; undefined when never made. */
  byIndex(index: number): Replica | undefined {
    return this.#byIndex.get(index);
  }

  /** Every replica whose process may be alive, by slot then index: serving, joining and retiring. */
  get all(): Replica[] {
    const n = this.#spec.replicas;
    return [...this.active, ...this.joining, ...this.retiring].sort(
      (a, b) => (a.index % n) - (b.index % n) || a.index - b.index,
    );
  }

  /** The slot's other index, joining until `promote` (or `left` when it could not start). */
  alternate(slot: number): Replica {
    const serving = this.active[slot]!;
    const other = this.#replica(serving.index === slot ? slot + this.#spec.replicas : slot);
    this.joining.add(other);
    return other;
  }

  /** A replacement that did not start leaves the slot to the replica serving it. */
  left(replica: Replica): void {
    this.joining.delete(replica);
  }

  /** `fresh` now serves `slot`; the one it replaces is retiring until `retired` is called. */
  promote(slot: number, fresh: Replica): Replica {
    const old = this.active[slot]!;
    this.joining.delete(fresh);
    this.active[slot] = fresh;
    this.retiring.add(old);
    return old;
  }

  /** Resolves once no replica of `slot` is retiring (its stop budget has run). */
  async settle(slot: number): Promise<void> {
    for (const r of [...this.retiring]) if (this.slotOf(r.index) === slot) await r.stop();
  }

  retired(replica: Replica): void {
    this.retiring.delete(replica);
  }

  #choose(slot: number): Replica {
    const a = this.#record(slot);
    const b = this.#record(slot + this.#spec.replicas);
    if (!b) return this.#replica(slot);
    if (!a) return this.#replica(b.index);
    const liveA = LIVE_STATES.has(a.state);
    const liveB = LIVE_STATES.has(b.state);
    let serving: ReplicaRecord;
    if (liveA && liveB) {
      const stoppingA = STOPPING.has(a.state);
      const stoppingB = STOPPING.has(b.state);
      if (this.#preferred.has(a.index) !== this.#preferred.has(b.index))
        serving = this.#preferred.has(a.index) ? a : b;
      else if (stoppingA !== stoppingB) serving = stoppingA ? b : a;
      else serving = (a.startTime ?? Infinity) <= (b.startTime ?? Infinity) ? a : b;
      this.retiring.add(this.#replica(serving === a ? b.index : a.index));
    } else if (liveA || liveB) serving = liveA ? a : b;
    else serving = a.updatedAt >= b.updatedAt ? a : b;
    return this.#replica(serving.index);
  }

  #record(index: number): ReplicaRecord | undefined {
    return this.#records.find((r) => r.index === index);
  }

  #replica(index: number): Replica {
    let replica = this.#byIndex.get(index);
    if (!replica) {
      replica = new Replica(this.#spec, index, this.#deps, this.#record(index));
      this.#byIndex.set(index, replica);
    }
    return replica;
  }
}
