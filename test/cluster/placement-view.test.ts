import { describe, expect, it } from "vitest";
import { placementView, renderPlacement } from "../../src/cluster/placement-view.js";
import type { CompiledComponent } from "../../src/topology/types.js";

const component = (
  name: string,
  replicas: number,
  placement: CompiledComponent["placement"],
): CompiledComponent => ({ name, replicas, placement }) as CompiledComponent;

const nodes = [
  { name: "n1", state: "up" as const },
  { name: "n2", state: "up" as const },
  { name: "n3", state: "down" as const },
];

describe("placement in status", () => {
  it("is under-placed when max_per_node × up nodes < replicas, with assigned and running per node", () => {
    const work = component("work", 5, { nodes: "any", perNode: false, maxPerNode: 2, singleton: false });
    const table = new Map([
      [
        "work",
        new Map([
          ["n1", 2],
          ["n2", 2],
          ["n3", 0],
        ]),
      ],
    ]);
    const replicas = new Map([
      [
        "n1",
        [
          { component: "work", state: "ready" },
          { component: "work", state: "starting" },
        ],
      ],
      [
        "n2",
        [
          { component: "work", state: "ready" },
          { component: "work", state: "stopped" },
        ],
      ],
    ]);
    const [p] = placementView([work], table, nodes, replicas);
    expect(p).toMatchObject({
      component: "work",
      underPlaced: true,
      perNode: [
        { node: "n1", assigned: 2, running: 2 },
        { node: "n2", assigned: 2, running: 1 },
        { node: "n3", assigned: 0, running: 0 },
      ],
    });
    expect(renderPlacement([p!])).toEqual([
      "placement work: any, 5 over the cluster · running/assigned: n1 2/2, n2 1/2 · under-placed",
    ]);
  });

  it("is placed in full when the up nodes hold it; a list shows the others as not placed here", () => {
    const work = component("work", 3, { nodes: "any", perNode: false, maxPerNode: 2, singleton: false });
    const pinned = component("pinned", 1, { nodes: ["n2"], perNode: true, maxPerNode: 1, singleton: false });
    const table = new Map([
      [
        "work",
        new Map([
          ["n1", 2],
          ["n2", 1],
        ]),
      ],
    ]);
    const list = placementView([work, pinned], table, nodes, new Map());
    expect(list[0]!.underPlaced).toBe(false);
    expect(renderPlacement([list[1]!], "n1")).toEqual([
      "placement pinned: n2 · running/assigned: n1 not placed here, n2 0/1",
    ]);
  });
});
