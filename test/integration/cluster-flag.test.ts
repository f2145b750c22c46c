// `--cluster` on start/stop/restart without a `cluster:` section is refused with exit 2 before the
// daemon is asked anything (cluster operations themselves: cluster-operations.test.ts). And
// `validate` prints the placement warning and still exits 0.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { homeOf, node, project, steward } from "./helpers.js";

const COMPONENTS = `
components:
  a:
    command: ${node("forever.js")}
`;

describe("--cluster", () => {
  it.each(["start", "stop", "restart"])(
    "`%s --cluster` without a cluster section: exit 2, says so, starts no daemon",
    async (op) => {
      const dir = project(COMPONENTS);
      const r = await steward(dir, op, "--cluster");
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `steward: \`${op} --cluster\` acts on every node of a cluster, and steward.yaml has no \`cluster:\` section: run \`steward ${op}\` without --cluster, or add \`cluster:\` (with a PostgreSQL \`store\`)\n`,
      );
      expect(fs.existsSync(homeOf(dir))).toBe(false);
    },
  );

  it("a topology error comes first: exit 2 with its location", async () => {
    const dir = project(`${COMPONENTS}    placement: { nodes: all }\n`);
    const r = await steward(dir, "stop", "--cluster");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /steward\.yaml:5:5: `components\.a\.placement`: `placement` says on which nodes/,
    );
  });
});

describe("validate: warnings", () => {
  it("an under-placed `nodes: any` is a warning on stderr; exit 0", async () => {
    const dir = project(`store: postgres://steward@127.0.0.1:5432/steward_unused
components:
  w:
    command: ${node("forever.js")}
    placement: { nodes: any, replicas: 3, max_per_node: 1 }
cluster:
  nodes: [n1, n2]
`);
    const r = await steward(dir, "validate");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/is valid: 1 components \(3 replicas\)/);
    expect(r.stderr).toBe(
      "steward: warning: steward.yaml:5:57: `components.w.placement.max_per_node`: `max_per_node` (1) × 2 declared nodes = 2, fewer than `replicas` (3): 1 replica cannot be placed (status: `under-placed`); raise `max_per_node` or declare more nodes\n",
    );
    const json = await steward(dir, "validate", "--json");
    const doc = JSON.parse(json.stdout) as { topology: { warnings: { path: string }[] } };
    expect(doc.topology.warnings.map((w) => w.path)).toEqual(["components.w.placement.max_per_node"]);
  });
});
