/**
 * @module topology/graph
 * The `depends_on` graph of a topology's components, for start (dependencies first) and stop
 * (dependants first) plans. Every order is stable: ties keep the file order.
 */
import { DependencyCycleError, UnknownComponentError } from "../errors.js";
import { didYouMean } from "./suggest.js";
import type { CompiledComponent } from "./types.js";

/** What the graph needs of a component. */
export type GraphComponent = Pick<CompiledComponent, "name" | "dependsOn">;

export class DependencyGraph {
  readonly #names: string[];
  readonly #dependencies = new Map<string, string[]>();
  readonly #dependants = new Map<string, string[]>();
  readonly #file: string;
  #startOrder: string[] | undefined;

  /**
   * @param components in file order.
   * @param opts.file named by a `DependencyCycleError`. @default "topology"
   * @throws UnknownComponentError when a component depends on one that is not in `components`.
   */
  constructor(components: readonly GraphComponent[], opts: { file?: string } = {}) {
    this.#file = opts.file ?? "topology";
    this.#names = components.map((c) => c.name);
    for (const name of this.#names) this.#dependants.set(name, []);
    for (const c of components) {
      const deps = [...new Set(c.dependsOn.map((d) => d.component))];
      for (const d of deps) this.#check(d);
      this.#dependencies.set(c.name, deps);
    }
    for (const name of this.#names) {
      for (const d of this.#dependencies.get(name) ?? []) this.#dependants.get(d)?.push(name);
    }
  }

  /** Component names in file order. */
  get names(): readonly string[] {
    return this.#names;
  }

  has(name: string): boolean {
    return this.#dependencies.has(name);
  }

  /** Direct dependencies of `name`, in the order `depends_on` lists them. */
  dependenciesOf(name: string): string[] {
    this.#check(name);
    return [...(this.#dependencies.get(name) ?? [])];
  }

  /** Components that depend directly on `name`, in file order. */
  dependantsOf(name: string): string[] {
    this.#check(name);
    return [...(this.#dependants.get(name) ?? [])];
  }

  /**
   * Everything `names` need, directly or not, in start order. A given name is included only when
   * another given name depends on it.
   * @example graph.transitiveDependencies(["scheduler"]) // ["store", "engine"]
   */
  transitiveDependencies(names: Iterable<string>): string[] {
    return this.#reach(names, this.#dependencies);
  }

  /**
   * Everything that depends on `names`, directly or not, in start order (reverse it to stop). A
   * given name is included only when it depends on another given name.
   * @example graph.transitiveDependants(["store"]) // ["engine", "scheduler"]
   */
  transitiveDependants(names: Iterable<string>): string[] {
    return this.#reach(names, this.#dependants);
  }

  /**
   * Every component, each after all of its dependencies; among components whose dependencies are
   * placed, the earlier in the file comes first.
   * @throws DependencyCycleError when `depends_on` has a cycle.
   */
  startOrder(): string[] {
    if (this.#startOrder) return [...this.#startOrder];
    const placed = new Set<string>();
    const order: string[] = [];
    while (order.length < this.#names.length) {
      const next = this.#names.find(
        (n) => !placed.has(n) && (this.#dependencies.get(n) ?? []).every((d) => placed.has(d)),
      );
      if (next === undefined) throw new DependencyCycleError(this.findCycle() ?? [], this.#file);
      placed.add(next);
      order.push(next);
    }
    this.#startOrder = order;
    return [...order];
  }

  /** {@link startOrder} reversed: dependants before their dependencies. */
  stopOrder(): string[] {
    return this.startOrder().reverse();
  }

  /**
   * A cycle in `depends_on`, with its first component repeated at the end (`["a", "b", "a"]`), or
   * `undefined`. Searched in file order, so the same file always reports the same cycle.
   */
  findCycle(): string[] | undefined {
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (name: string): string[] | undefined => {
      state.set(name, "open");
      stack.push(name);
      for (const d of this.#dependencies.get(name) ?? []) {
        const s = state.get(d);
        if (s === "open") return [...stack.slice(stack.indexOf(d)), d];
        if (s === undefined) {
          const found = visit(d);
          if (found) return found;
        }
      }
      stack.pop();
      state.set(name, "done");
      return undefined;
    };
    for (const name of this.#names) {
      if (state.has(name)) continue;
      const found = visit(name);
      if (found) return found;
    }
    return undefined;
  }

  #reach(names: Iterable<string>, edges: Map<string, string[]>): string[] {
    const seen = new Set<string>();
    const queue: string[] = [];
    for (const n of names) {
      this.#check(n);
      queue.push(...(edges.get(n) ?? []));
    }
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      if (seen.has(n)) continue;
      seen.add(n);
      queue.push(...(edges.get(n) ?? []));
    }
    return this.startOrder().filter((n) => seen.has(n));
  }

  #check(name: string): void {
    if (!this.#dependencies.has(name) && !this.#names.includes(name)) {
      throw new UnknownComponentError(name, this.#names, didYouMean(name, this.#names));
    }
  }
}
