import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DependencyCycleError, UnknownComponentError } from "../../src/errors.js";
import { DependencyGraph, loadTopology, type GraphComponent } from "../../src/topology/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Components from `name: [dependencies…]`, in the order given. */
function components(spec: Record<string, string[]>): GraphComponent[] {
  return Object.entries(spec).map(([name, deps]) => ({
    name,
    dependsOn: deps.map((component) => ({ component, condition: "ready" as const })),
  }));
}

describe("DependencyGraph on a diamond (top → left, right → base; extra alone)", () => {
  const graph = new DependencyGraph(loadTopology(fixture("diamond.yaml"), { env: {} }).components);

  it("starts dependencies first, ties in file order", () => {
    expect(graph.startOrder()).toEqual(["extra", "base", "right", "left", "top"]);
    expect(graph.stopOrder()).toEqual(["top", "left", "right", "base", "extra"]);
  });

  it("gives direct dependencies and dependants", () => {
    expect(graph.dependenciesOf("top")).toEqual(["left", "right"]);
    expect(graph.dependenciesOf("base")).toEqual([]);
    expect(graph.dependantsOf("base")).toEqual(["right", "left"]);
    expect(graph.dependantsOf("top")).toEqual([]);
  });

  it("gives transitive dependencies and dependants in start order", () => {
    expect(graph.transitiveDependencies(["top"])).toEqual(["base", "right", "left"]);
    expect(graph.transitiveDependencies(["left"])).toEqual(["base"]);
    expect(graph.transitiveDependencies(["extra"])).toEqual([]);
    expect(graph.transitiveDependants(["base"])).toEqual(["right", "left", "top"]);
    expect(graph.transitiveDependants(["left", "extra"])).toEqual(["top"]);
    expect(graph.transitiveDependants(["base", "left"])).toEqual(["right", "left", "top"]);
  });

  it("finds no cycle", () => {
    expect(graph.findCycle()).toBeUndefined();
  });

  it("refuses an unknown name with a did-you-mean", () => {
    expect(() => graph.dependantsOf("bse")).toThrow(UnknownComponentError);
    expect(() => graph.transitiveDependencies(["lefty"])).toThrow(
      "unknown component `lefty` (did you mean `left`?); the topology declares: top, extra, right, left, base",
    );
  });
});

describe("DependencyGraph cycles", () => {
  it("finds a cycle in file order and prints it", () => {
    const graph = new DependencyGraph(components({ a: ["b"], b: ["c"], c: ["a"], d: [] }), {
      file: "steward.yaml",
    });
    expect(graph.findCycle()).toEqual(["a", "b", "c", "a"]);
    expect(() => graph.startOrder()).toThrow(new DependencyCycleError(["a", "b", "c", "a"], "steward.yaml"));
    expect(() => graph.startOrder()).toThrow("steward.yaml: dependency cycle: a → b → c → a");
  });

  it("reports only the cycle, not the path into it", () => {
    const graph = new DependencyGraph(components({ entry: ["x"], x: ["y"], y: ["x"] }));
    expect(graph.findCycle()).toEqual(["x", "y", "x"]);
  });

  it("finds a self-dependency", () => {
    expect(new DependencyGraph(components({ a: ["a"] })).findCycle()).toEqual(["a", "a"]);
  });

  it("refuses a dependency on an unknown component", () => {
    expect(() => new DependencyGraph(components({ a: ["b"] }))).toThrow(UnknownComponentError);
  });
});
