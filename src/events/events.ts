/**
 * @module events/events
 * One typed map of everything the daemon announces, with `noun:verb` names (design §8). The CLI's
 * progress lines and `status` are read from here; a durable outbox arrives with the event stream.
 */
import type { ReplicaState } from "../lifecycle/replica-state.js";

export interface ReplicaEvent {
  component: string;
  index: number;
  state: ReplicaState;
  previous: ReplicaState;
  pid: number | null;
  reason: string | null;
  at: number;
}

export interface OperationEvent {
  operation: string;
  /** What happened: a step name, `done` or `failed`. */
  step: string;
  component?: string;
  message: string;
  at: number;
}

export interface JobStartedEvent {
  job: string;
  run: string;
  pid: number;
  trigger: "manual" | "schedule";
  at: number;
}

export interface JobFinishedEvent {
  job: string;
  run: string;
  state: string;
  exitCode: number | null;
  reason: string | null;
  at: number;
}

/** `replica:<state>` for every transition, plus operation progress and job runs. */
export type StewardEventMap = { [S in ReplicaState as `replica:${S}`]: ReplicaEvent } & {
  "operation:step": OperationEvent;
  "operation:done": OperationEvent;
  "operation:failed": OperationEvent;
  "job:started": JobStartedEvent;
  "job:finished": JobFinishedEvent;
};

export type StewardEventName = keyof StewardEventMap;
export type AnyStewardEvent = {
  [K in StewardEventName]: { name: K; data: StewardEventMap[K] };
}[StewardEventName];

type Listener = (event: AnyStewardEvent) => void;

/** A small synchronous bus: listeners receive every event; they filter by name themselves. */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  emit<K extends StewardEventName>(name: K, data: StewardEventMap[K]): void {
    const event = { name, data } as AnyStewardEvent;
    for (const listener of this.#listeners) listener(event);
  }

  /** Subscribe; returns the function that unsubscribes. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
