/**
 * The patch cycle on every node (issue 12 §3) — 3 real daemons on a real PostgreSQL, each with its
 * own editions: `steward patch prepare|apply|finalize|cutover` run from one node are driven by the
 * primary on all three; the patch exists only on n1's disk and reaches n2 and n3 through the store
 * (checksummed there); a rolling cutover under a request loop through two nodes' edges fails no
 * request and leaves every node serving the new edition. Refused: a phase while a node is in
 * drift, with nothing asked.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import { processesOf, steward, waitFor } from "./helpers.js";
import { get, routedTo, startPatchCluster, writePatch } from "../cluster/patch-cluster.js";
import { daemonPid } from "../cluster/nodes.js";
import { pgAdmin } from "../store/fixtures/postgres.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

describe("the patch cycle on every node", () => {
  it("prepare → apply → finalize → rolling cutover on 3 nodes under load: 0 failed, every node on the new edition", async () => {
    let port: number;
    ({ c, port } = await startPatchCluster("patch"));

    let stop = false;
    const results: { ok: boolean; version: string; error?: string }[] = [];
    const loop = async (host: string): Promise<void> => {
      while (!stop) {
        try {
          const r = await get(host, port);
          results.push(
            r.status === 200
              ? { ok: true, version: r.body.split(" ")[0]! }
              : { ok: false, version: "", error: `${r.status} ${r.body}` },
          );
        } catch (err) {
          results.push({ ok: false, version: "", error: (err as Error).message });
        }
      }
    };
    const running = [loop("127.0.0.1"), loop("127.0.0.1"), loop("127.0.0.2"), loop("127.0.0.3")];

    const phase = async (from: string, ...args: string[]): Promise<string> => {
      const t0 = Date.now();
      const r = await steward(c.node(from).dir, "patch", ...args);
      console.log(`[figure] patch ${args[0]} from ${from}: ${Date.now() - t0} ms\n${r.stdout}`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return r.stdout;
    };
    // Out of order on every node: each node's own phase order refuses, and says what is next.
    const early = await steward(c.node("n1").dir, "patch", "finalize");
    expect(early.code).toBe(1);
    for (const n of ["n1", "n2", "n3"])
      expect(early.stdout).toMatch(new RegExp(`${n}: patch finalize … failed \\(.*no patch cycle is open`));
    const prepared = await phase("n2", "prepare");
    for (const n of ["n1", "n2", "n3"]) expect(prepared).toMatch(new RegExp(`${n}: patch prepare … done`));
    // The patch exists on n1's disk only: n2 and n3 read it from the store.
    const v2 = writePatch(c.node("n1").dir, "v2", { "version.txt": "2\n" });
    const applied = await phase("n1", "apply", v2);
    expect(applied).toMatch(/patch v2\.tar\.gz stored for every node: sha256 [0-9a-f]{12}/);
    for (const n of c.nodes)
      expect(fs.readFileSync(path.join(n.dir, "editions", "fs2", "version.txt"), "utf8").trim()).toBe("2");
    await phase("n3", "finalize");
    const t0 = Date.now();
    const cut = await phase("n2", "cutover");
    const cutMs = Date.now() - t0;
    expect(cut).toMatch(/patch cutover done on 3 nodes/);

    for (const n of c.nodes) {
      expect(fs.readlinkSync(path.join(n.dir, "editions", "run"))).toBe("fs2");
    }
    await waitFor(
      "only v2 answers through every edge",
      async () => results.slice(-20).every((r) => r.version === "v2"),
      15_000,
      100,
    );
    stop = true;
    await Promise.all(running);
    const failed = results.filter((r) => !r.ok);
    const seen = [...new Set(results.map((r) => r.version))];
    console.log(
      `[figure] cluster patch cycle, rolling cutover ${cutMs} ms: ${results.length} requests through n1, n2, n3, ${failed.length} failed ${JSON.stringify(failed.slice(0, 5))}; versions seen ${JSON.stringify(seen)}`,
    );
    expect(failed).toEqual([]);

    // patch status shows each node.
    const st = await steward(c.node("n3").dir, "patch", "status");
    console.log(st.stdout);
    expect(st.code, st.stderr).toBe(0);
    for (const n of ["n1", "n2", "n3"]) expect(st.stdout).toMatch(new RegExp(`${n}\\s+.*cutover done`));

    // A node in drift: the next phase is refused, nothing asked.
    fs.appendFileSync(path.join(c.node("n3").dir, "steward.yaml"), "# drift\n");
    const yaml = fs.readFileSync(path.join(c.node("n3").dir, "steward.yaml"), "utf8");
    fs.writeFileSync(path.join(c.node("n3").dir, "steward.yaml"), yaml.replace("replicas: 2", "replicas: 3"));
    expect((await steward(c.node("n3").dir, "daemon", "restart")).code).toBe(0);
    await waitFor(
      "n3 in drift",
      async () => (await c.view("n1")).nodes.find((n) => n.name === "n3")?.drift === true,
      15_000,
      100,
    );
    const refused = await steward(c.node("n1").dir, "patch", "prepare");
    console.log(`[figure] drift refusal: ${refused.stderr.trim()}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/patch prepare refused: n3 is in drift/);
  }, 240_000);

  it("abandon: n3 lost during apply — the cycle completes on n1–n2, n3 is marked resync; back, it catches up before it is routed", async () => {
    let port3: number;
    ({ c, port: port3 } = await startPatchCluster("abandon"));
    expect((await steward(c.node("n1").dir, "patch", "prepare")).code).toBe(0);
    const p = path.join(c.node("n1").dir, "patches", "slow-v2");
    fs.mkdirSync(path.join(p, "files"), { recursive: true });
    fs.writeFileSync(
      path.join(p, "patch.yaml"),
      `id: slow-v2\ndescription: v2, slowly\nsteps: ["sleep 3"]\n`,
    );
    fs.writeFileSync(path.join(p, "files", "version.txt"), "2\n");
    const applying = steward(c.node("n1").dir, "patch", "apply", p);
    await waitFor(
      "n3 running its apply step",
      async () =>
        (
          await pgAdmin<{ n: string }>(
            "SELECT count(*) AS n FROM steward_cluster.operation_steps WHERE node = 'n3' AND state = 'running'",
            [],
            c.db,
          )
        )[0]!.n === "1",
      15_000,
      50,
    );
    // A lost machine: n3's daemon and every process of n3 SIGKILLed.
    const victims = [daemonPid(c.node("n3").dir)!, ...processesOf(c.node("n3").dir).map((x) => x.pid)];
    for (const pid of new Set(victims))
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    const applied = await applying;
    console.log(`[figure] apply with n3 lost:\n${applied.stdout}`);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(
      /n3: .*abandoned: node n3 went down during patch apply \(last heartbeat \d+ ms ago\)/,
    );
    expect(applied.stdout).toMatch(/patch apply done on 2 nodes in .*; abandoned: n3/);
    expect((await c.view("n1")).nodes.find((n) => n.name === "n3")).toMatchObject({
      state: "down",
      resync: true,
    });

    const finalized = await steward(c.node("n2").dir, "patch", "finalize");
    expect(finalized.code, finalized.stdout + finalized.stderr).toBe(0);
    expect(finalized.stdout).toMatch(/n3: patch finalize … abandoned \(not run: n3 is marked resync/);
    const cut = await steward(c.node("n2").dir, "patch", "cutover");
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/patch cutover done on 2 nodes/);
    for (const n of ["n1", "n2"])
      expect(fs.readlinkSync(path.join(c.node(n).dir, "editions", "run"))).toBe("fs2");
    expect(fs.readlinkSync(path.join(c.node("n3").dir, "editions", "run"))).toBe("fs1");

    // n3 back: it catches up alone; no other edge routes to it before it runs the new edition.
    const t0 = Date.now();
    const up = await c.up("n3");
    expect(up.code, up.stdout + up.stderr).toBe(0);
    let routedEarly = 0;
    await waitFor(
      "n3 routed again by n1",
      async () => {
        const routed = await routedTo(c, "n1", "n3");
        if (routed > 0 && fs.readlinkSync(path.join(c.node("n3").dir, "editions", "run")) !== "fs2")
          routedEarly += 1;
        return routed === 2;
      },
      60_000,
      100,
    );
    console.log(`[figure] n3 back → caught up and routed again: ${Date.now() - t0} ms`);
    expect(routedEarly).toBe(0);
    expect(fs.readlinkSync(path.join(c.node("n3").dir, "editions", "run"))).toBe("fs2");
    expect((await c.view("n1")).nodes.find((n) => n.name === "n3")?.resync).toBe(false);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i += 1) seen.add((await get("127.0.0.3", port3)).body.split(" ")[0]!);
    expect(seen).toEqual(new Set(["v2"]));
  }, 240_000);
});
