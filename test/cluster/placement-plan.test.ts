import { describe, expect, it } from "vitest";
import {
  planPlacement,
  singletonReleaseMs,
  type Assignment,
  type PlacedComponent,
  type PlanNode,
} from "../../src/cluster/placement-plan.js";

const node = (name: string, state: PlanNode["state"], ageMs = 0): PlanNode => ({
  name,
  state,
  ageMs,
  heartbeatMs: 200,
  allowedMisses: 2,
});
const work: PlacedComponent = {
  name: "work",
  replicas: 3,
  maxPerNode: 2,
  singleton: false,
  stopBudgetMs: 700,
};
const cron: PlacedComponent = {
  name: "cron",
  replicas: 1,
  maxPerNode: 1,
  singleton: true,
  stopBudgetMs: 700,
};
const table = (rows: Record<string, Record<string, number>>): Assignment =>
  new Map(Object.entries(rows).map(([c, m]) => [c, new Map(Object.entries(m))]));
const plain = (a: Assignment): Record<string, Record<string, number>> =>
  Object.fromEntries([...a].map(([c, m]) => [c, Object.fromEntries(m)]));

describe("placement plan (nodes: any)", () => {
  it("spreads N replicas over the up nodes, at most max_per_node on one", () => {
    const up = [node("n1", "up"), node("n2", "up"), node("n3", "up")];
    expect(plain(planPlacement([work], up, new Map()))).toEqual({ work: { n1: 1, n2: 1, n3: 1 } });
    // One node only: 2 placed, the third under-placed.
    expect(plain(planPlacement([work], [node("n1", "up")], new Map()))).toEqual({ work: { n1: 2 } });
  });

  it("places a down node's share on the survivors, and gives a returning node nothing", () => {
    const before = table({ work: { n1: 1, n2: 1, n3: 1 } });
    const after = planPlacement(
      [work],
      [node("n1", "down", 900), node("n2", "up"), node("n3", "up")],
      before,
    );
    expect(plain(after)).toEqual({ work: { n1: 0, n2: 2, n3: 1 } });
    const back = planPlacement([work], [node("n1", "up"), node("n2", "up"), node("n3", "up")], after);
    expect(plain(back)).toEqual({ work: { n1: 0, n2: 2, n3: 1 } });
  });

  it("keeps a suspect node's replicas (no churn on one late heartbeat)", () => {
    const before = table({ work: { n1: 1, n2: 1, n3: 1 } });
    expect(
      plain(planPlacement([work], [node("n1", "suspect", 400), node("n2", "up"), node("n3", "up")], before)),
    ).toEqual(plain(before));
  });

  it("moves a singleton only once its holder's heartbeat is older than fence + stop budget + margin", () => {
    const release = singletonReleaseMs(node("n1", "down"), 700);
    expect(release).toBe(600 + 700 + 1000);
    const held = table({ cron: { n1: 1 } });
    const early = planPlacement([cron], [node("n1", "down", release), node("n2", "up")], held);
    expect(plain(early)).toEqual({ cron: { n1: 1 } });
    const late = planPlacement([cron], [node("n1", "down", release + 1), node("n2", "up")], held);
    expect(plain(late)).toEqual({ cron: { n1: 0, n2: 1 } });
  });

  it("a draining node keeps its replicas while they are placed again elsewhere; drained, its share is 0; a singleton moves only then", () => {
    const d = (drain: PlanNode["drain"]): PlanNode[] => [
      node("n1", "up"),
      { ...node("n2", "up"), drain },
      node("n3", "up"),
    ];
    const now = table({ work: { n1: 1, n2: 1, n3: 1 }, cron: { n2: 1 } });
    const draining = planPlacement([work, cron], d("draining"), now);
    expect(plain(draining)).toEqual({ work: { n1: 2, n2: 1, n3: 1 }, cron: { n2: 1 } });
    const drained = planPlacement([work, cron], d("drained"), draining);
    expect(plain(drained)).toEqual({ work: { n1: 2, n2: 0, n3: 1 }, cron: { n1: 1, n2: 0 } });
    // Undrained: nothing is taken back from the others (no rebalancing).
    expect(plain(planPlacement([work, cron], d(null), drained))).toEqual(plain(drained));
  });
});
