/**
 * Raising the soft descriptor limit with prlimit: a child node process whose soft limit is lowered
 * after it started (node raises its own at start) raises it back to the hard limit.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readNofileLimit } from "../../src/process/nofile.js";

const entry = fileURLToPath(new URL("../../dist/process/nofile.js", import.meta.url));

describe("process/nofile", () => {
  it("reads this process's limit", () => {
    const l = readNofileLimit();
    expect(l).toBeDefined();
    expect(l!.soft).toBeGreaterThan(0);
    expect(l!.hard).toBeGreaterThanOrEqual(l!.soft);
  });

  it("raises a lowered soft limit to the hard limit with prlimit", async () => {
    const script = `
      const { raiseNofileLimit } = await import(${JSON.stringify(entry)});
      process.stdin.once("data", () => { console.log(JSON.stringify(raiseNofileLimit())); process.exit(0); });`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await new Promise((r) => setTimeout(r, 300));
    const lowered = spawnSync("prlimit", ["--pid", String(child.pid), "--nofile=300:"], { encoding: "utf8" });
    expect(lowered.status).toBe(0);
    const hard = readNofileLimit()!.hard;
    child.stdin.write("go\n");
    await new Promise((r) => child.on("exit", r));
    expect(JSON.parse(out)).toEqual({ limit: { soft: hard, hard }, raisedFrom: 300 });
  });
});
