/** The abandon rule of the patch cycle on every node (cluster/abandon): pure decisions. */
import { describe, expect, it } from "vitest";
import { decideAbandon, type AbandonInput } from "../../src/cluster/abandon.js";

const ready = (per: Record<string, Record<string, number>>): AbandonInput["ready"] =>
  new Map(Object.entries(per).map(([c, m]) => [c, new Map(Object.entries(m))]));

const base = (over: Partial<AbandonInput>): AbandonInput => ({
  steps: [
    { node: "n1", state: "done" },
    { node: "n2", state: "done" },
    { node: "n3", state: "running" },
  ],
  nodes: new Map([
    ["n1", { state: "up", ageMs: 50 }],
    ["n2", { state: "up", ageMs: 60 }],
    ["n3", { state: "down", ageMs: 2400 }],
  ]),
  resync: [],
  allowed: true,
  minAvailable: new Map([["web", 2]]),
  ready: ready({ web: { n1: 2, n2: 2, n3: 2 } }),
  phase: "apply",
  ...over,
});

describe("decideAbandon", () => {
  it("abandons a node that went down mid-phase when the others keep min_available", () => {
    expect(decideAbandon(base({}))).toEqual([
      {
        node: "n3",
        action: "abandon",
        outcome:
          "abandoned: node n3 went down during patch apply (last heartbeat 2400 ms ago); the cycle goes on without it, and it is brought to the cluster's run edition when it is back",
      },
    ]);
  });

  it("fails the down node's step, with the numbers, when the others would break min_available", () => {
    const d = decideAbandon(base({ minAvailable: new Map([["web", 5]]) }));
    expect(d).toEqual([
      {
        node: "n3",
        action: "fail",
        outcome:
          "node n3 went down during patch apply (last heartbeat 2400 ms ago); not abandoned: web would have 4 ready replica(s) on the other nodes, min_available is 5 — run the phase again once it is back, or abort",
      },
    ]);
  });

  it("with --abandon no, the down node's step fails and says so", () => {
    expect(decideAbandon(base({ allowed: false }))[0]).toMatchObject({
      action: "fail",
      outcome: /--abandon no/,
    });
  });

  it("waits while another node still runs the step, and never abandons a step failed everywhere", () => {
    const running = base({
      steps: [
        { node: "n1", state: "running" },
        { node: "n2", state: "done" },
        { node: "n3", state: "running" },
      ],
    });
    expect(decideAbandon(running)).toEqual([]);
    const allFailed = base({
      steps: ["n1", "n2", "n3"].map((node) => ({ node, state: "failed" })),
      nodes: new Map(["n1", "n2", "n3"].map((n) => [n, { state: "up", ageMs: 50 }])),
    });
    expect(decideAbandon(allFailed)).toEqual([]);
  });

  it("abandons a node whose step failed while the others did it, counting nodes already marked resync as gone", () => {
    const failed = base({
      steps: [
        { node: "n1", state: "done" },
        { node: "n2", state: "failed" },
        { node: "n3", state: "abandoned" },
      ],
      nodes: new Map(["n1", "n2", "n3"].map((n) => [n, { state: "up", ageMs: 50 }])),
      resync: ["n3"],
    });
    // Without n2 and n3 only n1's 2 ready replicas are left: exactly min_available 2.
    expect(decideAbandon(failed)).toMatchObject([
      { node: "n2", action: "abandon", outcome: /patch apply failed on n2 while other nodes did it/ },
    ]);
    expect(decideAbandon({ ...failed, minAvailable: new Map([["web", 3]]) })).toEqual([]);
  });
});
