import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTopology } from "../../src/topology/index.js";
import { TopologyError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "stw-node-"));
function file(cluster: string, extra = ""): string {
  const f = join(dir, `t${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    f,
    `store: postgres://steward@127.0.0.1:5432/x\ncomponents:\n  web:\n    command: echo \${node}${extra}\n${cluster}`,
  );
  return f;
}
const commandOf = (f: string, env: NodeJS.ProcessEnv): unknown =>
  loadTopology(f, { env }).components[0]?.command;

describe("cluster.node, --node / STEWARD_NODE and ${node}", () => {
  it("STEWARD_NODE beats cluster.node, which beats the hostname; ${node} follows", () => {
    const f = file("cluster:\n  node: n1\n  advertise: 127.0.0.2\n");
    expect(commandOf(f, {})).toBe("echo n1");
    expect(commandOf(f, { STEWARD_NODE: "n2" })).toBe("echo n2");
    const t = loadTopology(f, { env: { STEWARD_NODE: "n2" } });
    expect(t.cluster).toMatchObject({
      node: "n2",
      advertise: "127.0.0.2",
      heartbeatMs: 1000,
      leaseMs: 10_000,
    });
    expect(commandOf(file("cluster: {}\n"), {})).toBe(`echo ${hostname()}`);
  });

  it("an invalid node name is a located error, whichever way it is given", () => {
    const bad = (f: string, env: NodeJS.ProcessEnv): string => {
      try {
        loadTopology(f, { env });
      } catch (err) {
        expect(err).toBeInstanceOf(TopologyError);
        return (err as Error).message;
      }
      throw new Error("loaded");
    };
    expect(bad(file("cluster:\n  node: 'a b'\n"), {})).toMatch(/`cluster.node`: expected a node name.*`a b`/);
    expect(bad(file("cluster: {}\n"), { STEWARD_NODE: "-x" })).toMatch(/from `STEWARD_NODE`.*`-x`/);
    expect(bad(file("cluster:\n  node: ${X}\n"), { X: "n1" })).toMatch(/cannot use `\$\{\.\.\.\}`/);
    expect(bad(file("cluster:\n  advertise: 'not an address!'\n"), {})).toMatch(/`cluster.advertise`/);
  });

  it("the drift digest ignores what is each node's own, and nothing else", () => {
    const digest = (cluster: string, extra = "", env: NodeJS.ProcessEnv = {}): string | undefined =>
      loadTopology(file(cluster, extra), { env }).cluster?.digest;
    const base = digest("cluster:\n  node: n1\n  advertise: 127.0.0.1\n");
    expect(digest("cluster:\n  node: n2\n  advertise: 127.0.0.2\n")).toBe(base);
    expect(digest("cluster:\n  node: n1\n", "", { STEWARD_NODE: "n3" })).toBe(base);
    expect(digest("cluster:\n  node: n1\n", "\n    replicas: 2")).not.toBe(base);
    expect(digest("cluster:\n  node: n1\n  lease: 5s\n")).not.toBe(base);
  });
});
