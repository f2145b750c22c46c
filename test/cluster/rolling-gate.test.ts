import { describe, expect, it } from "vitest";
import { blockedRestart, type GateInput, type RestartImpact } from "../../src/cluster/rolling-gate.js";

function gate(
  impact: Record<string, RestartImpact>,
  min: Record<string, number>,
  ready: Record<string, Record<string, number>>,
): GateInput {
  return {
    impact: new Map(Object.entries(impact)),
    minAvailable: new Map(Object.entries(min)),
    ready: new Map(Object.entries(ready).map(([c, perNode]) => [c, new Map(Object.entries(perNode))])),
  };
}

describe("rolling gate", () => {
  const three = { n1: 2, n2: 2, n3: 2 };

  it("lets a node restart while the others keep min_available, counting what its restart may take down", () => {
    expect(blockedRestart("n1", [], gate({ web: "all" }, { web: 4 }, { web: three }))).toBeUndefined();
    expect(blockedRestart("n1", [], gate({ web: "all" }, { web: 5 }, { web: three }))).toBe(
      "web: 6 ready in the cluster; restarting n1 may take 2 down, min_available is 5",
    );
    expect(blockedRestart("n1", [], gate({ web: "one" }, { web: 5 }, { web: three }))).toBeUndefined();
    expect(blockedRestart("n1", [], gate({ web: "none" }, { web: 6 }, { web: three }))).toBeUndefined();
  });

  it("counts nothing ready on nodes already restarting", () => {
    expect(blockedRestart("n2", ["n1"], gate({ web: "all" }, { web: 3 }, { web: three }))).toBe(
      "web: 4 ready outside n1 (restarting); restarting n2 may take 2 down, min_available is 3",
    );
    expect(blockedRestart("n2", ["n1"], gate({ web: "all" }, { web: 2 }, { web: three }))).toBeUndefined();
  });

  it("checks every component; min_available 0 never blocks; a node with none ready loses none", () => {
    const g = gate({ web: "none", worker: "all" }, { web: 1, worker: 1 }, { web: three, worker: { n1: 1 } });
    expect(blockedRestart("n1", [], g)).toBe(
      "worker: 1 ready in the cluster; restarting n1 may take 1 down, min_available is 1",
    );
    expect(blockedRestart("n2", [], g)).toBeUndefined();
    expect(
      blockedRestart("n1", [], gate({ worker: "all" }, { worker: 0 }, { worker: { n1: 1 } })),
    ).toBeUndefined();
  });
});
