/**
 * `reseed` on real daemons (3 nodes, PostgreSQL through relays): a small store program
 * (test/fixtures/seed-store.js) keeps records in its node's data directory, and its `reseed`
 * command copies them from `${peer}:${peer_port}`. A node lost (daemon and every process
 * SIGKILLed) for longer than `after` is reseeded from a peer before its store starts, and ends with
 * the peer's data; one lost for less just starts again with its own. A failing reseed keeps the
 * replica from starting (and the next start tries again); with no ready peer the start waits.
 * Every reseed is checked in `steward_cluster.reseeds` and in `steward status`.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../cluster/nodes.js";
import { markedPids, signalNode } from "../cluster/node-procs.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { homeOf, node, replicaOf, sleep, steward, stewardWith, waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

// Long enough that a node SIGKILLed and started again at once is back well within it, even on a
// loaded machine (about 1.3 s here), short enough to keep the test quick.
const AFTER_MS = 5000;
const STORE = `  store:
    command: ${node("seed-store.js", "serve", "${home}/data")}
    env: { PORT: "\${port}" }
    ready: { log: "listening on" }
    stop: { grace: 1s }
    reseed:
      after: ${AFTER_MS}ms
      command: ${node("seed-store.js", "copy", "${peer}", "${peer_port}", "${home}/data")}
`;

interface ReseedRow {
  id: string;
  component: string;
  state: string;
  away_ms: string | null;
  peer_node: string | null;
  peer: string | null;
  peer_port: number | null;
  duration_ms: number | null;
  exit_code: number | null;
  reason: string | null;
}

const dataFile = (name: string): string => path.join(homeOf(c.node(name).dir), "data", "records.txt");
const records = (name: string): string => fs.readFileSync(dataFile(name), "utf8");

async function storePort(name: string): Promise<number> {
  const doc = await c.status(name);
  const r = replicaOf(doc, "store");
  if (r.state !== "ready" || r.port === null) throw new Error(`${name}: store is ${r.state}`);
  return r.port;
}

async function append(name: string, line: string): Promise<void> {
  const port = await storePort(name);
  const res = await fetch(`http://${c.node(name).advertise}:${port}/append`, { method: "POST", body: line });
  expect(res.status).toBe(204);
}

const reseeds = (name: string): Promise<ReseedRow[]> =>
  pgAdmin<ReseedRow>("SELECT * FROM steward_cluster.reseeds WHERE node = $1 ORDER BY id", [name], c.db);

/** Loses a node (daemon and every process SIGKILLed) and waits until the others see it `down`. */
async function lose(name: string): Promise<number> {
  const t0 = Date.now();
  signalNode(c.node(name).dir, "SIGKILL");
  await waitFor("its processes gone", () => markedPids(c.node(name).dir).length === 0, 5000);
  return t0;
}

/** On failure, the node's daemon log goes with the error (what it was doing instead). */
async function explained<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const log = fs.readFileSync(path.join(homeOf(c.node(name).dir), "logs", "daemon.log"), "utf8");
    throw new Error(
      `${(err as Error).message}\n${name}'s daemon log ends:\n${log.split("\n").slice(-40).join("\n")}`,
    );
  }
}

describe("reseed", () => {
  it("reseeds a node lost for longer than `after` from a peer, and only then", async () => {
    c = await TestCluster.create("reseed", 3, STORE);
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
    // First registrations: nothing owed, nothing recorded.
    for (const n of ["n1", "n2", "n3"]) expect(await reseeds(n)).toEqual([]);

    // One replicated store: the same records on n1 and n2; n3 has only its own.
    for (const line of ["r1", "r2"]) {
      await append("n1", line);
      await append("n2", line);
    }
    await append("n3", "stale-on-n3");

    // A long outage: n3 lost for more than `after`; records written meanwhile.
    const lostAt = await lose("n3");
    await waitFor(
      "n3 down in n1's view",
      async () => (await c.view("n1")).nodes.find((x) => x.name === "n3")?.state === "down",
      10_000,
      50,
    );
    await append("n1", "r3");
    await append("n2", "r3");
    await sleep(Math.max(0, lostAt + AFTER_MS + 500 - Date.now()));
    const back = await c.up("n3");
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(records("n3")).toBe("r1\nr2\nr3\n");
    expect(records("n3")).toBe(records("n1"));
    const n1Port = await storePort("n1");
    const [row, ...more] = await reseeds("n3");
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      component: "store",
      state: "done",
      peer_node: "n1",
      peer: "127.0.0.1",
      peer_port: n1Port,
      exit_code: 0,
      reason: null,
    });
    expect(Number(row!.away_ms)).toBeGreaterThan(AFTER_MS);
    console.log(
      `[figure] reseed: n3 away ${row!.away_ms} ms (database clock), copy ${row!.duration_ms} ms, \`steward up\` ${back.ms} ms`,
    );
    const text = await steward(c.node("n3").dir, "status");
    expect(text.stdout).toMatch(
      new RegExp(
        `reseed store: done from n1 \\(127\\.0\\.0\\.1:${n1Port}\\) in \\S+, exit 0, at \\S+ · node away`,
      ),
    );
    const json = (await c.status("n3")).cluster?.reseeds ?? [];
    expect(json).toMatchObject([
      { component: "store", owed: false, last: { state: "done", peerNode: "n1", exitCode: 0 } },
    ]);
    expect(replicaOf(await c.status("n3"), "store").state).toBe("ready");

    // A short outage: n2 lost and back at once — it starts again with its own data, no reseed.
    await append("n2", "n2-only");
    await lose("n2");
    const quick = await c.up("n2");
    expect(quick.code, quick.stdout + quick.stderr).toBe(0);
    expect(await reseeds("n2")).toEqual([]);
    expect(records("n2")).toBe("r1\nr2\nr3\nn2-only\n");
    expect(replicaOf(await c.status("n2"), "store").state).toBe("ready");
    expect((await steward(c.node("n2").dir, "status")).stdout).not.toContain("reseed store");
    const said = /reseed store: node n2 was away (\S+) \(not more than 5s\): no reseed/.exec(
      fs.readFileSync(path.join(homeOf(c.node("n2").dir), "logs", "daemon.log"), "utf8"),
    );
    expect(said).not.toBeNull();
    console.log(
      `[figure] short outage: n2 away ${said![1]} (database clock), back (no reseed) in ${quick.ms} ms`,
    );
  }, 180_000);

  it("a failed reseed keeps the store from starting; with no ready peer the start waits", async () => {
    c = await TestCluster.create("reseedfail", 3, STORE);
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
    await append("n1", "a");
    await append("n2", "a");
    await append("n3", "stale");

    // The reseed command fails: the replica stays down, with the reason; the debt stands.
    fs.writeFileSync(path.join(homeOf(c.node("n3").dir), "data", "fail-reseed"), "");
    let lostAt = await lose("n3");
    await sleep(Math.max(0, lostAt + AFTER_MS + 500 - Date.now()));
    const failed = await c.up("n3");
    expect(failed.code).not.toBe(0);
    const r = replicaOf(await c.status("n3"), "store");
    expect(r.state).toBe("failed");
    expect(r.reason).toContain("reseed from n1 exited with 3");
    expect(markedPids(c.node("n3").dir, "store")).toEqual([]);
    expect(records("n3")).toBe("stale\n");
    expect(await reseeds("n3")).toMatchObject([{ state: "failed", exit_code: 3, peer_node: "n1" }]);
    expect((await steward(c.node("n3").dir, "status")).stdout).toMatch(
      /reseed store: failed from n1 \(127\.0\.0\.1:\d+\): exited with 3, at \S+ · owed: the next start copies from a peer first/,
    );

    // The next start reseeds first.
    fs.rmSync(path.join(homeOf(c.node("n3").dir), "data", "fail-reseed"));
    const again = await steward(c.node("n3").dir, "start", "store");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(records("n3")).toBe("a\n");
    expect((await reseeds("n3")).map((x) => x.state)).toEqual(["failed", "done"]);

    // No ready peer: the start waits, and says so, until one is ready.
    for (const n of ["n1", "n2"]) expect((await steward(c.node(n).dir, "stop", "store")).code).toBe(0);
    lostAt = await lose("n3");
    await sleep(Math.max(0, lostAt + AFTER_MS + 500 - Date.now()));
    const pending = stewardWith({ timeoutMs: 60_000 }, c.node("n3").dir, "up");
    const waiting = await explained(
      "n3",
      waitFor(
        "n3 waiting for a peer",
        async () => {
          const s = await c.status("n3").catch(() => undefined);
          const now = s?.cluster?.reseeds?.[0]?.now;
          return now?.startsWith("waiting for a peer") && now;
        },
        20_000,
        100,
      ),
    );
    expect(waiting).toContain("no ready replica of store on another up node");
    expect((await steward(c.node("n3").dir, "status")).stdout).toContain(
      "reseed store: waiting for a peer to copy from: no ready replica of store on another up node",
    );
    expect(replicaOf(await c.status("n3"), "store").state).toBe("starting");
    const t0 = Date.now();
    expect((await steward(c.node("n2").dir, "start", "store")).code).toBe(0);
    const up = await pending;
    expect(up.code, up.stdout + up.stderr).toBe(0);
    console.log(`[figure] a peer ready → n3's waiting start done in ${Date.now() - t0} ms`);
    const last = (await reseeds("n3")).at(-1)!;
    expect(last).toMatchObject({ state: "done", peer_node: "n2", exit_code: 0 });
    expect(records("n3")).toBe(records("n2"));
    expect(replicaOf(await c.status("n3"), "store").state).toBe("ready");
  }, 180_000);
});
