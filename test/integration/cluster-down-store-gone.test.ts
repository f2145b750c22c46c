/**
 * `steward down` on a cluster node whose store is gone for good (its relay cut and never
 * restored): the daemon stops its replicas through their stop budgets and exits within a bounded
 * time, saying in its log that leaving the cluster could not be recorded.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { daemonPid, TestCluster } from "../cluster/nodes.js";
import { alive, homeOf, node, stewardWith, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

/** Each replica's stop budget: SIGTERM, then SIGKILL after `grace`. */
const GRACE_MS = 2000;

describe("steward down with the store gone", () => {
  it("stops the replicas and exits within the stop budgets plus a few seconds; the log says the leave was not recorded", async () => {
    c = await TestCluster.create(
      "downgone",
      1,
      `  web:
    command: ${node("ignores-sigterm.js")}
    replicas: 2
    stop: { grace: ${GRACE_MS}ms }
`,
    );
    const n1 = c.node("n1");
    const up = await c.up("n1");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const pids = await waitFor("two replicas running and n1 primary", async () => {
      const s = await c.status("n1");
      const ps = s.components[0]!.replicas.map((r) => r.pid);
      return (
        s.cluster?.primary === true && ps.length === 2 && ps.every((p) => p !== null) && (ps as number[])
      );
    });
    const daemon = daemonPid(n1.dir)!;

    n1.relay.cut(); // for good: restored only by the cleanup, after the daemon is gone
    await waitFor(
      "n1 sees the store unreachable",
      async () => (await c.status("n1")).cluster?.link === "unreachable",
    );

    const down = await stewardWith({ timeoutMs: 40_000 }, n1.dir, "down");
    const log = fs.readFileSync(path.join(homeOf(n1.dir), "logs", "daemon.log"), "utf8");
    expect(down.code, `${down.stdout}${down.stderr}\n--- daemon.log:\n${log}`).toBe(0);
    // Both replicas ignore SIGTERM: each is killed at the end of its grace (stopped in parallel).
    // The CLI's time includes starting node (seconds under load): a loose bound; the daemon's is tight.
    expect(down.ms).toBeGreaterThanOrEqual(GRACE_MS);
    expect(down.ms).toBeLessThan(GRACE_MS + 13_000);
    await waitFor("the daemon exited", () => !alive(daemon), 10_000);
    for (const p of pids) expect(alive(p), `replica ${p}`).toBe(false);
    const after = fs.readFileSync(path.join(homeOf(n1.dir), "logs", "daemon.log"), "utf8");
    expect(after).toMatch(/down: the state store is unreachable; the daemon's stop is not recorded/);
    expect(after).toMatch(/store was unreachable .*leaving the cluster was not recorded/);
    const at = (what: string): number => {
      const line = after.split("\n").find((l) => l.includes(what));
      expect(line, what).toBeDefined();
      return Date.parse(line!.slice(0, line!.indexOf(" ")));
    };
    const shutdownMs = at("daemon stopped") - at("orderly shutdown");
    expect(shutdownMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(shutdownMs).toBeLessThan(GRACE_MS + 3000);
    console.log(
      `down with the store gone: daemon ${shutdownMs} ms, CLI ${down.ms} ms (grace ${GRACE_MS} ms)`,
    );
  }, 90_000);
});
