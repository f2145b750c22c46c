// `placement` and `cluster.nodes` (design §7): the compiled form with every default, each rule a
// located error, and the one warning of validate.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { loadTopology, type CompiledTopology } from "../../src/topology/index.js";

const PG = "store: postgres://steward@127.0.0.1:5432/steward";

/** A topology file in a fresh temporary directory. */
function tempTopology(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "steward-placement-")), "steward.yaml");
  writeFileSync(file, text.replace(/^\n/, ""));
  return file;
}

const load = (text: string): CompiledTopology =>
  loadTopology(tempTopology(text), { env: { STEWARD_NODE: "n1" } });

/** The issues a topology fails with, as `[line, column, path, message]`. */
function issuesOf(text: string): [number, number, string, string][] {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.column, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

describe("placement: the compiled form", () => {
  it("in a cluster, every component has a placement with every default; `replicas: 1, nodes: any` is a singleton", () => {
    const t = load(`
${PG}
components:
  web:
    command: node web.js
    replicas: 2
  pinned:
    command: node pinned.js
    replicas: 3
    placement: { nodes: [n1, n3] }
  scheduler:
    command: node scheduler.js
    placement: { nodes: any, replicas: 1 }
  workers:
    command: node workers.js
    min_available: 4
    placement: { nodes: any, replicas: 6, max_per_node: 2 }
  spread:
    command: node spread.js
    placement: { nodes: any, replicas: 3, max_per_node: 9 }
cluster:
  nodes: [n1, n2, n3]
`);
    expect(t.components.map((c) => [c.name, c.replicas, c.placement])).toEqual([
      ["web", 2, { nodes: "all", perNode: true, maxPerNode: 2, singleton: false }],
      ["pinned", 3, { nodes: ["n1", "n3"], perNode: true, maxPerNode: 3, singleton: false }],
      ["scheduler", 1, { nodes: "any", perNode: false, maxPerNode: 1, singleton: true }],
      ["workers", 6, { nodes: "any", perNode: false, maxPerNode: 2, singleton: false }],
      // max_per_node above the count bounds nothing: compiled to the count.
      ["spread", 3, { nodes: "any", perNode: false, maxPerNode: 3, singleton: false }],
    ]);
    expect(t.warnings).toBeUndefined();
    expect(t.cluster?.nodes).toEqual(["n1", "n2", "n3"]);
  });

  it("without `cluster:` no component has a placement", () => {
    const t = load(`
components:
  web: { command: node web.js, replicas: 2 }
`);
    expect(t.components[0]).not.toHaveProperty("placement");
    expect(t.components[0]?.replicas).toBe(2);
  });

  it("`placement: {}` is `nodes: all`; counts may come from `${VAR}`", () => {
    const t = loadTopology(
      tempTopology(`
${PG}
components:
  a: { command: node a.js, placement: {} }
  b: { command: node b.js, placement: { nodes: any, replicas: "\${N}", max_per_node: "\${M}" } }
cluster: {}
`),
      { env: { N: "4", M: "2", STEWARD_NODE: "n1" } },
    );
    expect(t.components.map((c) => [c.replicas, c.placement])).toEqual([
      [1, { nodes: "all", perNode: true, maxPerNode: 1, singleton: false }],
      [4, { nodes: "any", perNode: false, maxPerNode: 2, singleton: false }],
    ]);
  });
});

describe("placement: located errors", () => {
  it("`placement` without `cluster:` says to add one or remove it", () => {
    expect(
      issuesOf(`
components:
  a:
    command: node a.js
    placement: { nodes: all }
`),
    ).toEqual([
      [
        4,
        5,
        "components.a.placement",
        "`placement` says on which nodes of a cluster the replicas run, and this topology has no `cluster:` section: add `cluster:` (with a PostgreSQL `store`) or remove `placement`",
      ],
    ]);
  });

  it("`cluster:` with the SQLite store is an error", () => {
    expect(
      issuesOf(`
store: sqlite
components:
  a: { command: node a.js }
cluster:
  heartbeat: 1s
`),
    ).toEqual([
      [4, 1, "cluster", "a cluster shares one PostgreSQL store: set `store: postgres://user@host:5432/db`"],
    ]);
  });

  it("a misspelt form or key has a did-you-mean; max_per_node below 1 is refused", () => {
    expect(
      issuesOf(`
${PG}
components:
  a:
    command: node a.js
    placement: { nodes: anyy, replicas: 2 }
  b:
    command: node b.js
    placement: { nodes: any, replica: 2, max_per_node: 0 }
  c:
    command: node c.js
    placement: { nodes: 3 }
cluster: {}
`),
    ).toEqual([
      [
        5,
        25,
        "components.a.placement.nodes",
        "expected `all`, `any` or a list of node names, got `anyy` (string); did you mean `any`?",
      ],
      [
        8,
        25,
        "components.b.placement.nodes",
        "`nodes: any` needs the number of replicas over the cluster: add `replicas: N` to `placement` (`replicas: 1` for a singleton, which never runs on two nodes at once)",
      ],
      [8, 30, "components.b.placement.replica", "unknown key `replica`; did you mean `replicas`?"],
      [8, 56, "components.b.placement.max_per_node", "expected a whole number ≥ 1, got `0` (number)"],
      [
        11,
        25,
        "components.c.placement.nodes",
        "expected `all`, `any` or a list of node names, got `3` (number)",
      ],
    ]);
  });

  it("each count where it applies: `replicas` per node, `placement.replicas` over the cluster", () => {
    expect(
      issuesOf(`
${PG}
components:
  a:
    command: node a.js
    replicas: 2
    placement: { nodes: any }
  b:
    command: node b.js
    replicas: 2
    placement: { nodes: any, replicas: 3 }
  c:
    command: node c.js
    placement: { nodes: all, replicas: 3, max_per_node: 2 }
  d:
    command: node d.js
    placement: { nodes: [n1], max_per_node: 1 }
  e:
    command: node e.js
    min_available: 3
    placement: { nodes: any, replicas: 2 }
cluster: {}
`),
    ).toEqual([
      [
        5,
        5,
        "components.a.replicas",
        "`replicas` counts replicas per node, and with `placement.nodes: any` the count is over the cluster: write it as `placement.replicas: 2`",
      ],
      [
        9,
        5,
        "components.b.replicas",
        "`replicas` counts replicas per node, and with `placement.nodes: any` the count is over the cluster: `placement.replicas` (3) gives it: remove `replicas`",
      ],
      [
        13,
        30,
        "components.c.placement.replicas",
        "`placement.replicas` is the count over the cluster of `nodes: any`; with `nodes: all` each node runs the component's `replicas`: write `replicas: 3` beside `placement`, or use `nodes: any`",
      ],
      [
        13,
        43,
        "components.c.placement.max_per_node",
        "`max_per_node` bounds `nodes: any`; with `nodes: all` each node runs exactly `replicas`: remove it, or use `nodes: any`",
      ],
      [
        16,
        31,
        "components.d.placement.max_per_node",
        "`max_per_node` bounds `nodes: any`; with a list of nodes each node runs exactly `replicas`: remove it, or use `nodes: any`",
      ],
      // `min_available` is checked against the count over the cluster.
      [19, 20, "components.e.min_available", "`min_available` (3) is more than `replicas` (2)"],
    ]);
  });

  it("node names: the rule, duplicates, an empty list, and names missing from `cluster.nodes`", () => {
    const long = "n".repeat(64);
    expect(
      issuesOf(`
${PG}
components:
  a:
    command: node a.js
    placement: { nodes: [n1, -n2, "a b", ${long}, n1, n4, web.lan] }
  b:
    command: node b.js
    placement: { nodes: [] }
cluster:
  nodes: [n1, n2, n3, n2, "", web.lan]
`),
    ).toEqual([
      [
        5,
        30,
        "components.a.placement.nodes[1]",
        "expected a node name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit; got `-n2` (string)",
      ],
      [
        5,
        35,
        "components.a.placement.nodes[2]",
        "expected a node name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit; got `a b` (string)",
      ],
      [
        5,
        42,
        "components.a.placement.nodes[3]",
        `expected a node name: 1 to 63 letters, digits, \`.\`, \`_\` or \`-\`, starting with a letter or digit; got \`${"n".repeat(57)}...\` (string)`,
      ],
      [5, 108, "components.a.placement.nodes[4]", "`n1` is listed twice (also at [0])"],
      [
        5,
        112,
        "components.a.placement.nodes[5]",
        "`n4` is not a node declared in `cluster.nodes` (n1, n2, n3, web.lan); did you mean `n1`?",
      ],
      [8, 25, "components.b.placement.nodes", "an empty list: name at least one node, or use `nodes: all`"],
      [10, 23, "cluster.nodes[3]", "`n2` is listed twice (also at [1])"],
      [
        10,
        27,
        "cluster.nodes[4]",
        "expected a node name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit; got an empty string",
      ],
    ]);
  });

  it("without `cluster.nodes`, any valid name is accepted (unknown nodes are found at run time)", () => {
    const t = load(`
${PG}
components:
  a: { command: node a.js, placement: { nodes: [n7, db1.lan, node_9] } }
cluster: { heartbeat: 1s }
`);
    expect(t.components[0]?.placement?.nodes).toEqual(["n7", "db1.lan", "node_9"]);
    expect(t.cluster).not.toHaveProperty("nodes");
  });
});

describe("placement: the warning of validate", () => {
  it("`max_per_node` × declared nodes below `replicas` is valid, with a located warning", () => {
    const t = load(`
${PG}
components:
  workers:
    command: node workers.js
    placement: { nodes: any, replicas: 7, max_per_node: 2 }
  one:
    command: node one.js
    placement: { nodes: any, replicas: 4, max_per_node: 1 }
  enough:
    command: node enough.js
    placement: { nodes: any, replicas: 6, max_per_node: 2 }
cluster:
  nodes: [n1, n2, n3]
`);
    expect(t.warnings?.map((w) => [w.line, w.column, w.path, w.message])).toEqual([
      [
        5,
        57,
        "components.workers.placement.max_per_node",
        "`max_per_node` (2) × 3 declared nodes = 6, fewer than `replicas` (7): 1 replica cannot be placed (status: `under-placed`); raise `max_per_node` or declare more nodes",
      ],
      [
        8,
        57,
        "components.one.placement.max_per_node",
        "`max_per_node` (1) × 3 declared nodes = 3, fewer than `replicas` (4): 1 replica cannot be placed (status: `under-placed`); raise `max_per_node` or declare more nodes",
      ],
    ]);
    expect(t.components.map((c) => c.replicas)).toEqual([7, 4, 6]);
  });

  it("without `cluster.nodes` there is nothing to warn about", () => {
    const t = load(`
${PG}
components:
  workers: { command: node w.js, placement: { nodes: any, replicas: 7, max_per_node: 1 } }
cluster: {}
`);
    expect(t.warnings).toBeUndefined();
  });
});
