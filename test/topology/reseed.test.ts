// `reseed` (design §7, cluster/reseed): the compiled form with its defaults, each problem a
// located error, and `${peer}`, `${peer_port}`, `${peer_node}` rendered only in its command.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { loadTopology, renderCommand, type CompiledTopology } from "../../src/topology/index.js";

const CLUSTER = "store: postgres://steward@127.0.0.1:5432/steward\ncluster: { node: n1 }";

function tempTopology(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "steward-reseed-")), "steward.yaml");
  writeFileSync(file, text.replace(/^\n/, ""));
  return file;
}

const load = (text: string): CompiledTopology => loadTopology(tempTopology(text), { env: {} });

function issuesOf(text: string): [number, number, string, string][] {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.column, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

describe("reseed", () => {
  it("compiles with its defaults (after 1h, timeout 30m) and renders the peer", () => {
    const t = load(`
${CLUSTER}
components:
  db:
    command: node db.js --port \${port}
    reseed:
      command: [copy, "\${peer}:\${peer_port}", "from \${peer_node}", "$\${literal}"]
  cache:
    command: node cache.js
    reseed: { after: 500ms, timeout: 2m, command: "copy-cache \${peer}" }
`);
    const db = t.components.find((c) => c.name === "db")!;
    expect(db.reseed).toEqual({
      command: ["copy", "${peer}:${peer_port}", "from ${peer_node}", "$${literal}"],
      afterMs: 3_600_000,
      timeoutMs: 1_800_000,
    });
    expect(
      renderCommand(db.reseed!.command, {
        replica: 0,
        home: t.home,
        peer: "127.0.0.2",
        peerPort: 4100,
        peerNode: "n2",
      }),
    ).toEqual(["copy", "127.0.0.2:4100", "from n2", "${literal}"]);
    expect(t.components.find((c) => c.name === "cache")!.reseed).toMatchObject({
      afterMs: 500,
      timeoutMs: 120_000,
    });
  });

  it("refuses, each at its place: no cluster, a bad duration, an unknown key, a missing command, the peer elsewhere, a replica's values in it", () => {
    expect(
      issuesOf(`
components:
  db:
    command: node db.js \${peer}
    reseed:
      after: 1x
      command: copy \${port} \${replica}
      retries: 3
  cache:
    command: node cache.js
    reseed: { after: 1s }
`),
    ).toEqual([
      [3, 14, "components.db.command", "`${peer}` is only available in a component's `reseed.command`"],
      [
        4,
        5,
        "components.db.reseed",
        "`reseed` copies a node's data from a peer node after a long outage, and this topology has no `cluster:` section, so it would never run: add `cluster:` (with a PostgreSQL `store`) or remove `reseed`",
      ],
      [
        5,
        14,
        "components.db.reseed.after",
        "expected a duration like `30s`, got `1x` (string): unknown unit `x` (use ms, s, m or h)",
      ],
      [
        6,
        16,
        "components.db.reseed.command",
        "`${port}` is only available in a component's command, env, ready, health, drain and recover",
      ],
      [
        6,
        16,
        "components.db.reseed.command",
        "`${replica}` is only available in a component's command, env, ready, health, drain and recover",
      ],
      [
        7,
        7,
        "components.db.reseed.retries",
        "unknown key `retries`; valid keys here: command, after, timeout",
      ],
      [10, 5, "components.cache.reseed.command", "missing required key `command`"],
      [10, 5, "components.cache.reseed", expect.stringContaining("no `cluster:` section") as string],
    ]);
  });

  it("refuses a reseed that could never find a peer: a cluster singleton, a component on one named node", () => {
    expect(
      issuesOf(`
${CLUSTER}
components:
  scheduler:
    command: node sched.js
    placement: { nodes: any, replicas: 1 }
    reseed: { command: [copy, "\${peer}"] }
  pinned:
    command: node pinned.js
    placement: { nodes: [n1] }
    reseed: { command: [copy, "\${peer}"] }
  spread:
    command: node spread.js
    placement: { nodes: any, replicas: 2 }
    reseed: { command: [copy, "\${peer}"] }
`),
    ).toEqual([
      [
        7,
        5,
        "components.scheduler.reseed",
        "`reseed` copies this component's data from a ready replica on another node, and it is a cluster singleton (`replicas: 1, nodes: any`: one node at a time), so there is never such a peer and its start would wait for ever: remove `reseed`, or run the component on more than one node",
      ],
      [
        11,
        5,
        "components.pinned.reseed",
        expect.stringContaining("and it runs on node `n1` only, so there is never such a peer") as string,
      ],
    ]);
  });
});
