import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileKey, readCompiled, writeCompiled } from "../../src/topology/compiled-cache.js";
import { loadTopology } from "../../src/topology/index.js";

const dir = mkdtempSync(join(tmpdir(), "stw-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the compiled-topology cache `up` leaves for the daemon", () => {
  it("is found under the same file and environment, and missed after an edit or with another environment", () => {
    const file = join(dir, "steward.yaml");
    writeFileSync(file, "name: c\nhome: ${H:-h}\ncomponents:\n  a:\n    command: sleep 1\n");
    const env = { H: "one" };
    const topology = loadTopology(file, { env });
    writeCompiled(topology, compileKey(file, env));
    expect(readCompiled(topology.home, compileKey(file, env))).toEqual(JSON.parse(JSON.stringify(topology)));
    expect(readCompiled(topology.home, compileKey(file, { H: "two" }))).toBeUndefined();
    writeFileSync(file, "name: c\nhome: ${H:-h}\ncomponents:\n  a:\n    command: sleep 2\n");
    expect(readCompiled(topology.home, compileKey(file, env))).toBeUndefined();
    expect(readCompiled(join(dir, "nowhere"), compileKey(file, env))).toBeUndefined();
  });
});
