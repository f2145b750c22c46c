/**
 * A 3-node cluster for the patch cycle on every node (test/integration/cluster-patch*.test.ts): each
 * node runs the edition-app fixture from its own editions, with a route on its own address.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { fixture, freePort, steward, waitFor } from "../integration/helpers.js";
import { TestCluster } from "./nodes.js";
export { get } from "./http-get.js";

const components = `  web:
    command: node server.js
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 5s }
    stop: { grace: 3s }
    drain: { timeout: 3s }
`;

/** Writes a patch directory under `dir` and returns its path. */
export function writePatch(dir: string, id: string, files: Record<string, string>): string {
  const p = path.join(dir, "patches", id);
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), `id: ${id}\ndescription: test patch ${id}\n`);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(p, "files", name), text);
  return p;
}

/** 3 nodes, each with its own editions of the edition-app and a route on its address; up and routing 6 replicas. */
export async function startPatchCluster(label: string): Promise<{ c: TestCluster; port: number }> {
  const c = await TestCluster.create(label, 3, components);
  const port = await freePort();
  for (const n of c.nodes) {
    fs.appendFileSync(
      path.join(n.dir, "steward.yaml"),
      `routes:\n  - { listen: "${n.advertise}:${port}", to: web }\npatching:\n  root: editions\n`,
    );
    fs.cpSync(fixture("edition-app"), path.join(n.dir, "app"), { recursive: true });
    const init = await steward(n.dir, "patch", "init", "--from", "app");
    expect(init.code, init.stderr).toBe(0);
  }
  const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
  for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
  await waitFor(
    "every node's edge routing to 6 web replicas",
    async () => {
      for (const n of c.nodes) {
        const web = (await c.status(n.name)).routing?.find((x) => x.component === "web");
        const local = (web?.replicas ?? []).filter((r) => r.state === "in").length;
        const remote = (web?.remote ?? []).filter((r) => r.state === "in").length;
        if (local + remote !== 6) return false;
      }
      return true;
    },
    20_000,
    100,
  );

  return { c, port };
}

/** web replicas in `from`'s routing that run on `on` (another node). */
export async function routedTo(c: TestCluster, from: string, on: string): Promise<number> {
  const web = (await c.status(from)).routing?.find((x) => x.component === "web");
  return (web?.remote ?? []).filter((r) => r.node === on && r.state === "in").length;
}
