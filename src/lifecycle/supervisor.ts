/**
 * @module lifecycle/supervisor
 * Holds every component's replicas and runs the dependency-ordered operations on them:
 * start (a component starts when each dependency reached its condition; independent components in
 * parallel; readiness fails closed), stop (reverse graph: a component stops after its dependants)
 * and restart (stop, then start the same set).
 */
import { UnknownComponentError } from "../errors.js";
import type { EventBus } from "../events/events.js";
import type { OperationLog } from "../recovery/journal.js";
import type { DesiredState, OperationKind, OperationPhase, ReplicaRecord } from "../store/records.js";
import type { StateWriter } from "../store/state-writer.js";
import { DependencyGraph } from "../topology/graph.js";
import { nearest } from "../topology/suggest.js";
import type { CompiledComponent, CompiledTopology } from "../topology/types.js";
import { formatMs, type Claim } from "../process/index.js";
import { deferred, type Deferred } from "./deferred.js";
import type { Replica, PhaseJournal, ReplicaDeps } from "./replica.js";
import { ReplicaSlots } from "./replica-slots.js";
import { rollingRestart } from "./rolling-restart.js";
import { reached } from "./dependency-condition.js";
import { adoptAll, claimsOf, reviveAll } from "./supervisor-recovery.js";

export interface ComponentRuntime {
  spec: CompiledComponent;
  /** The replica serving each slot (`slots.active`). */
  replicas: Replica[];
  slots: ReplicaSlots;
  /** Bumped by every stop, so a start waiting on dependencies knows it was overtaken. */
  epoch: number;
}

/** What one operation did to one component. */
export interface ComponentOutcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** What one operation did to each component it touched. */
export interface OperationResult {
  /** The topology's `name`. */
  application: string;
  ok: boolean;
  components: ComponentOutcome[];
  /**
   * Set when this operation was superseded by a later one while it waited its turn: it never ran,
   * and the rest of this result is the later operation's (lifecycle/operation-queue).
   */
  superseded?: { by: string; operation: string };
}

export class Supervisor {
  readonly topology: CompiledTopology;
  readonly #bus: EventBus;
  readonly #writer: StateWriter;
  readonly #components = new Map<string, ComponentRuntime>();
  readonly #graph: DependencyGraph;
  readonly #surge: (component: string) => boolean;
  /**
   * In a cluster, whether replica `index` of `component` runs on this node (placement, design §7);
   * a start leaves the others alone. Every replica runs without a cluster.
   */
  placed: (component: string, index: number) => boolean = () => true;
  /**
   * Before each replica launch (lifecycle/replica `beforeStart`): in a cluster, the reseed a
   * component owes on this node (cluster/reseed). Nothing without a cluster.
   */
  beforeStart: ReplicaDeps["beforeStart"];
  /** What the last operation asked of each component (`running`, `stopped`, `offline`). */
  readonly desired = new Map<string, DesiredState>();

  /**
   * @param deps.surge whether a component's replacement can start beside the replica it replaces
   *   (routed, `${port}`): see lifecycle/rolling-restart
   * @param preferred per component, the replica indices that serve their slot when both of a
   *   slot's replicas are alive (a cutover that switched before a crash: patching/cutover-plan)
   */
  constructor(
    topology: CompiledTopology,
    deps: {
      bus: EventBus;
      writer: StateWriter;
      routing?: ReplicaDeps["routing"];
      surge?: (component: string) => boolean;
      runEdition?: ReplicaDeps["runEdition"];
    },
    records: ReplicaRecord[] = [],
    preferred: ReadonlyMap<string, number[]> = new Map(),
  ) {
    this.topology = topology;
    this.#bus = deps.bus;
    this.#writer = deps.writer;
    this.#surge = deps.surge ?? (() => false);
    this.#graph = new DependencyGraph(topology.components);
    const replicaDeps: ReplicaDeps = {
      home: topology.home,
      writer: deps.writer,
      bus: deps.bus,
      ...(deps.routing ? { routing: deps.routing } : {}),
      ...(deps.runEdition ? { runEdition: deps.runEdition } : {}),
      beforeStart: (component, signal, env) => this.beforeStart?.(component, signal, env),
    };
    for (const spec of topology.components) {
      const slots = new ReplicaSlots(spec, replicaDeps, records, preferred.get(spec.name));
      this.#components.set(spec.name, { spec, replicas: slots.active, slots, epoch: 0 });
    }
  }

  /** The replica with `index` of `component` (serving or retiring), if any. */
  replica(component: string, index: number): Replica | undefined {
    return this.#components.get(component)?.slots.byIndex(index);
  }

  get components(): ComponentRuntime[] {
    return [...this.#components.values()];
  }

  /** Recovery: re-adopt what outlived the previous daemon (lifecycle/supervisor-recovery). */
  adoptAll(
    desired: ReadonlyMap<string, DesiredState>,
    interrupted: readonly OperationLog[] = [],
  ): { adopted: number; lost: number } {
    return adoptAll(this.components, desired, interrupted);
  }

  /** Recovery, after the orphan sweep: start what was caught mid-start or in backoff. */
  reviveAll(desired: ReadonlyMap<string, DesiredState>): number {
    return reviveAll(this.components, desired);
  }

  /** What the orphan sweep must leave alone (lifecycle/supervisor-recovery). */
  claims(): Claim {
    return claimsOf(this.components);
  }

  /** The phases an operation runs, in order: what a journal records before the first step. */
  plan(kind: OperationKind, names: readonly string[] = []): OperationPhase[] {
    const targets = this.resolve(names);
    switch (kind) {
      case "up":
      case "start":
        return [{ action: "start", components: this.#withDependencies(targets) }];
      case "stop":
      case "down":
      case "maintenance-on":
        return [{ action: "stop", components: this.#withDependants(targets) }];
      case "maintenance-off":
        return [{ action: "start", components: this.#withDependencies(targets) }];
      case "cutover":
        throw new RangeError("a cutover is planned by its patch session's finalize (patching/cutover)");
      case "restart": {
        // Components that can lose one replica and keep `min_available` are replaced one replica
        // at a time, and their dependants keep running; the others stop and start with theirs.
        if (targets.every((t) => this.#rollable(t))) return [{ action: "replace", components: targets }];
        const set = this.#withDependants(targets);
        return [
          { action: "stop", components: set },
          { action: "start", components: set },
        ];
      }
    }
  }

  /**
   * Run a journaled operation's plan, phase by phase; a phase a previous daemon finished before it
   * crashed is skipped, and components the topology no longer declares are left out.
   */
  async execute(log: OperationLog): Promise<OperationResult> {
    const { kind, plan } = log.record;
    let result: OperationResult = { application: this.topology.name, ok: true, components: [] };
    for (const [phase, { action, components }] of plan.entries()) {
      if (log.phaseDone(phase)) continue;
      if (action === "cutover") throw new RangeError("a cutover runs through patching/cutover");
      const known = components.filter((c) => this.#components.has(c));
      if (known.length === 0) continue;
      const journal = { log, phase };
      // Maintenance takes components offline: their replicas end `offline`, and so does what the
      // operator asked for them (the edge answers their routes with the offline code).
      const final = kind === "maintenance-on" ? "offline" : "stopped";
      result =
        action === "replace"
          ? await this.#replace(known, log, phase)
          : action === "start"
            ? await this.start(known, kind, journal)
            : await this.stop(known, kind, journal, final);
      if (!result.ok) break;
    }
    return result;
  }

  /** Validate names given by an operator; none means every component. */
  resolve(names: readonly string[] = []): string[] {
    const known = [...this.#components.keys()];
    for (const name of names) {
      if (!this.#components.has(name)) throw new UnknownComponentError(name, known, nearest(name, known));
    }
    return names.length > 0 ? [...new Set(names)] : known;
  }

  /** Start `names` and everything they depend on, in dependency order; steps journaled under `journal`. */
  async start(
    names: readonly string[] = [],
    operation = "start",
    journal?: PhaseJournal,
  ): Promise<OperationResult> {
    const set = this.#withDependencies(this.resolve(names));
    // Every component's "start attempted" gate exists before any task looks for a dependency's.
    const attempts = new Map(set.map((name) => [name, deferred<void>()]));
    const results = new Map<string, Promise<ComponentOutcome>>();
    for (const name of set) {
      this.desired.set(name, "running");
      void this.#writer.putComponent({ name, desired: "running", updatedAt: Date.now() });
      results.set(name, this.#startOne(this.#runtime(name), operation, attempts, journal));
    }
    return this.#collect(results);
  }

  async #startOne(
    runtime: ComponentRuntime,
    operation: string,
    attempts: Map<string, Deferred<void>>,
    journal: PhaseJournal | undefined,
  ): Promise<ComponentOutcome> {
    const { name } = runtime.spec;
    const attempt = attempts.get(name)!;
    const epoch = runtime.epoch;
    const t0 = Date.now();
    const step = await journal?.log.begin({ phase: journal.phase, name: "start", component: name });
    try {
      for (const dep of runtime.spec.dependsOn) {
        this.#step(operation, name, `waiting for ${dep.component} (${dep.condition})`);
        await reached(
          this.#runtime(dep.component),
          dep.condition,
          this.#bus,
          attempts.get(dep.component)?.promise,
        );
      }
      if (runtime.epoch !== epoch) throw new Error("cancelled by a stop");
      const placed = runtime.replicas.filter((r) => this.placed(name, r.index));
      const count = placed.length;
      this.#step(operation, name, `starting ${count} replica${count === 1 ? "" : "s"}`);
      const starts = placed.map((r) => r.start());
      attempt.resolve();
      const settled = await Promise.allSettled(starts);
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failure) throw failure.reason;
      this.#step(operation, name, `ready (${count}/${count}) in ${formatMs(Date.now() - t0)}`);
      step?.end("done", `${count} ready`);
      return { name, ok: true, ms: Date.now() - t0 };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      step?.end("failed", error);
      attempt.reject(new Error(`${name} failed: ${error}`));
      this.#bus.emit("operation:failed", {
        operation,
        step: "start",
        component: name,
        message: error,
        at: Date.now(),
      });
      return { name, ok: false, ms: Date.now() - t0, error };
    }
  }

  /** Stop `names` and everything that depends on them, dependants first; steps journaled under `journal`. */
  async stop(
    names: readonly string[] = [],
    operation = "stop",
    journal?: PhaseJournal,
    final: "stopped" | "offline" = "stopped",
  ): Promise<OperationResult> {
    const set = this.#withDependants(this.resolve(names));
    // Every component's "stopped" gate exists before any task waits on a dependant's.
    const stopped = new Map(set.map((name) => [name, deferred<void>()]));
    const results = new Map<string, Promise<ComponentOutcome>>();
    for (const name of set) {
      this.#runtime(name).epoch += 1;
      this.desired.set(name, final);
      void this.#writer.putComponent({ name, desired: final, updatedAt: Date.now() });
    }
    for (const name of set) {
      const dependants = this.#graph.dependantsOf(name).filter((d) => set.includes(d));
      const result = this.#stopOne(
        this.#runtime(name),
        operation,
        dependants.map((d) => stopped.get(d)!.promise),
        journal,
        final,
      );
      void result.finally(() => stopped.get(name)!.resolve());
      results.set(name, result);
    }
    return this.#collect(results);
  }

  async #stopOne(
    runtime: ComponentRuntime,
    operation: string,
    dependants: Promise<void>[],
    journal: PhaseJournal | undefined,
    final: "stopped" | "offline",
  ): Promise<ComponentOutcome> {
    const { name } = runtime.spec;
    const t0 = Date.now();
    if (dependants.length > 0) {
      this.#step(operation, name, "waiting for its dependants to stop");
      await Promise.all(dependants);
    }
    const step = await journal?.log.begin({ phase: journal.phase, name: "stop", component: name });
    this.#step(operation, name, "stopping");
    const exits = await Promise.all(
      runtime.replicas.map((r) => r.stop(`${operation} requested`, journal, final)),
    );
    const forced = exits.filter((e) => e?.forced).length;
    const summary = forced ? `stopped (${forced} killed after grace)` : "stopped";
    this.#step(operation, name, summary);
    step?.end("done", summary);
    return { name, ok: true, ms: Date.now() - t0 };
  }

  /** Can be restarted replica by replica: surge never drops a replica; in place must keep `min_available`. */
  #rollable(name: string): boolean {
    const { spec } = this.#runtime(name);
    // Placed by the cluster (a list, `nodes: any`): stopped and started, so a start places them again.
    if (spec.placement !== undefined && spec.placement.nodes !== "all") return false;
    return spec.replicas >= 2 && (this.#surge(name) || spec.replicas - 1 >= spec.minAvailable);
  }

  /** Rolling restart (lifecycle/rolling-restart), component by component; halts at the first failure. */
  async #replace(names: string[], log: OperationLog, phase: number): Promise<OperationResult> {
    const components: ComponentOutcome[] = [];
    // A restart's outcome is a running component, whatever it was before: `verify` expects that.
    for (const name of names) {
      this.desired.set(name, "running");
      void this.#writer.putComponent({ name, desired: "running", updatedAt: Date.now() });
    }
    for (const name of names) {
      const runtime = this.#runtime(name);
      const { ms, error } = await rollingRestart(runtime, {
        log,
        phase,
        surge: this.#surge(name),
        progress: (message) => this.#step("restart", name, message),
      });
      if (error)
        this.#bus.emit("operation:failed", {
          operation: "restart",
          step: "replace",
          component: name,
          message: error,
          at: Date.now(),
        });
      components.push({ name, ok: !error, ms, ...(error ? { error } : {}) });
      if (error) break;
    }
    await this.#writer.flush();
    return { application: this.topology.name, ok: components.every((c) => c.ok), components };
  }

  #runtime(name: string): ComponentRuntime {
    const runtime = this.#components.get(name);
    if (!runtime) throw new UnknownComponentError(name, [...this.#components.keys()]);
    return runtime;
  }

  /** `names` with everything they need: the set a start touches. */
  #withDependencies(names: string[]): string[] {
    return [...new Set([...this.#graph.transitiveDependencies(names), ...names])];
  }

  /** `names` with everything that needs them: the set a stop touches. */
  #withDependants(names: string[]): string[] {
    return [...new Set([...names, ...this.#graph.transitiveDependants(names)])];
  }

  async #collect(results: Map<string, Promise<ComponentOutcome>>): Promise<OperationResult> {
    const components = await Promise.all(results.values());
    await this.#writer.flush();
    return { application: this.topology.name, ok: components.every((c) => c.ok), components };
  }

  #step(operation: string, component: string, message: string): void {
    this.#bus.emit("operation:step", { operation, step: "progress", component, message, at: Date.now() });
  }
}
