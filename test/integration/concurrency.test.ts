/**
 * Lifecycle operations that cannot race (lifecycle/operation-queue): operations on the same
 * component run one at a time in the order asked, the last one asked wins, and `verify` expects
 * its outcome. First the reported bugs, each as it was reported; then every ordered pair of
 * {start, stop, restart, maintenance on, maintenance off, cutover, down} issued concurrently —
 * the second asked while the first is under way — against a model of what the pair must leave,
 * under a request loop through the edge.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { editionApp, streamLines, type EditionApp, type StreamLine } from "./edition-app.js";
import {
  alive,
  api,
  homeOf,
  settleProcesses,
  socketOf,
  status,
  steward,
  waitFor,
  type StatusDocument,
} from "./helpers.js";

type App = EditionApp;
type Line = StreamLine;

/** web run from test/fixtures/edition-app; restarts and cutovers surge, and each start takes a moment, so the operations of a pair overlap. */
const app = (): Promise<App> =>
  editionApp({ name: "racing", readyWithin: "20s", drainTimeout: "2s", readyDelayMs: 150 });

/** An operation asked over the API: `asked` resolves once the daemon has it (its first line). */
interface Asked {
  asked: Promise<void>;
  done: Promise<{ ok: boolean; lines: Line[]; text: string }>;
}

/**
 * `asked` resolves on the first line — the daemon queued the operation before it sent it — or, for
 * a patch cutover (queued once its session checks are done), on its first progress line.
 */
function ask(dir: string, urlPath: string, body: unknown = {}): Asked {
  const heardAt = urlPath.endsWith("/cutover") ? /"operation":"patch cutover"/ : /./;
  let heard!: () => void;
  const asked = new Promise<void>((r) => (heard = r));
  const done = new Promise<{ ok: boolean; lines: Line[]; text: string }>((resolve) => {
    const req = http.request(
      {
        socketPath: socketOf(dir),
        method: "POST",
        path: urlPath,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          if (res.statusCode !== 200 || heardAt.test(text)) heard();
        });
        res.on("end", () => {
          heard();
          const lines = streamLines(res.statusCode, text);
          const last = lines.at(-1);
          const ok =
            res.statusCode === 200 &&
            (last?.type === "result" || last?.type === "patch") &&
            last.result?.ok === true;
          resolve({ ok, lines, text });
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${urlPath}: no answer within 60s`)));
    req.on("error", (err) => {
      heard();
      resolve({ ok: false, lines: [], text: String(err) });
    });
    req.end(JSON.stringify(body));
  });
  return { asked, done };
}

type Kind = "start" | "stop" | "restart" | "maintenance-on" | "maintenance-off" | "cutover" | "down";
const KINDS: Kind[] = ["start", "stop", "restart", "maintenance-on", "maintenance-off", "cutover", "down"];

const REQUEST: Record<Kind, [string, unknown]> = {
  start: ["/v1/start", { components: ["web"] }],
  stop: ["/v1/stop", { components: ["web"] }],
  restart: ["/v1/restart", { components: ["web"] }],
  "maintenance-on": ["/v1/maintenance/on", { components: ["web"] }],
  "maintenance-off": ["/v1/maintenance/off", {}],
  cutover: ["/v1/patch/cutover", {}],
  down: ["/v1/down", {}],
};

/** What the application is meant to be, as the operations asked so far left it. */
interface Model {
  web: "running" | "stopped" | "offline";
  maintenance: boolean;
  /** A finalized patch session waits for its cutover. */
  finalized: boolean;
  daemon: boolean;
}

/** The model after `kind`, or "refused" when the daemon must refuse it. */
function next(m: Model, kind: Kind): Model | "refused" {
  if (!m.daemon) return "refused";
  switch (kind) {
    case "start":
    case "restart":
      return { ...m, web: "running" };
    case "stop":
      return { ...m, web: "stopped" };
    case "maintenance-on":
      return m.maintenance ? "refused" : { ...m, web: "offline", maintenance: true };
    case "maintenance-off":
      return m.maintenance ? { ...m, web: "running", maintenance: false } : "refused";
    case "cutover":
      // A cutover changes the edition, not what runs.
      return m.finalized ? { ...m, finalized: false } : "refused";
    case "down":
      return { ...m, daemon: false };
  }
}

/** Per slot, the replicas `status` lists: more than one is a duplicated slot. */
function slotsOf(doc: StatusDocument): number[][] {
  const web = doc.components.find((c) => c.name === "web")!;
  const bySlot: number[][] = [[], []];
  for (const r of web.replicas) bySlot[r.index % 2]!.push(r.index);
  return bySlot;
}

/** GETs through the edge until stopped; each failure with the time it happened. */
function requestLoop(port: number): { stop: () => Promise<{ n: number; failed: string[] }> } {
  let running = true;
  let n = 0;
  const failed: string[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      http
        .get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
          res.resume();
          res.on("end", () => {
            n += 1;
            if (res.statusCode !== 200) failed.push(`${Date.now()} ${res.statusCode}`);
            resolve();
          });
        })
        .on("error", (err) => {
          failed.push(`${Date.now()} ${err.message}`);
          resolve();
        });
    });
  const loop = (async () => {
    while (running) await one();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { n, failed };
    },
  };
}

let patches = 0;

/** Prepare, apply a new version and finalize: a cutover may run next. */
async function finalizeSession(a: App): Promise<void> {
  patches += 1;
  const p = path.join(a.dir, "patches", `p${patches}`);
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), `id: p${patches}\ndescription: version ${patches + 1}\n`);
  fs.writeFileSync(path.join(p, "files", "version.txt"), `${patches + 1}\n`);
  for (const args of [["prepare"], ["apply", p], ["finalize"]]) {
    const r = await steward(a.dir, "patch", ...args);
    expect(r.code, `patch ${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(0);
  }
}

/** Bring a running daemon to `m` (web running or in maintenance; a finalized session or not). */
async function reset(a: App, m: Model, current: Model): Promise<void> {
  if (current.maintenance) expect((await steward(a.dir, "maintenance", "off")).code).toBe(0);
  const start = await steward(a.dir, "start", "web");
  expect(start.code, start.stdout + start.stderr).toBe(0);
  if (m.finalized && !current.finalized) await finalizeSession(a);
  if (m.maintenance) expect((await steward(a.dir, "maintenance", "on", "web")).code).toBe(0);
}

/** The state a pair starts from: what makes both of its operations meaningful. */
function initial(first: Kind, second: Kind): Model {
  const offFirst =
    first === "maintenance-off" || (second === "maintenance-off" && first !== "maintenance-on");
  return {
    web: offFirst ? "offline" : "running",
    maintenance: offFirst,
    finalized: first === "cutover" || second === "cutover",
    daemon: true,
  };
}

const webStates = async (dir: string): Promise<string[]> =>
  (await status(dir)).components.find((c) => c.name === "web")!.replicas.map((r) => r.state);

/** Runs one pair on a running daemon in state `start`; returns the model it must end in. */
async function pair(a: App, first: Kind, second: Kind, start: Model): Promise<Model> {
  const label = `${first} then ${second}`;
  const afterFirst = next(start, first);
  expect(afterFirst, `${label}: the first operation is meaningful`).not.toBe("refused");
  const afterSecond = next(afterFirst as Model, second);
  const expected = afterSecond === "refused" ? (afterFirst as Model) : afterSecond;
  const loop = requestLoop(a.port);
  const A = ask(a.dir, ...REQUEST[first]);
  await A.asked;
  const B = ask(a.dir, ...REQUEST[second]);
  const [ra, rb] = await Promise.all([A.done, B.done]);
  const { n, failed } = await loop.stop();
  expect(ra.ok, `${label}: ${first} answered\n${ra.text}`).toBe(true);
  // A second `down` answers with the first one's outcome, or finds no daemon left to ask.
  if (!(first === "down" && second === "down"))
    expect(rb.ok, `${label}: ${second} answered\n${rb.text}`).toBe(afterSecond !== "refused");
  if (!expected.daemon) {
    await waitFor(`${label}: the daemon to exit`, () => !fs.existsSync(socketOf(a.dir)), 20_000);
    expect(await settleProcesses(a.dir, 5_000), `${label}: nothing left running`).toEqual([]);
    return expected;
  }
  // Both answered: nothing is left to happen.
  const doc = await status(a.dir);
  expect(slotsOf(doc), `${label}: one replica per slot`).toEqual([
    [expect.any(Number)],
    [expect.any(Number)],
  ]);
  const want = expected.web === "running" ? "ready" : expected.web;
  expect(await webStates(a.dir), `${label}: web`).toEqual([want, want]);
  const verify = JSON.parse((await api(a.dir, "GET", "/v1/verify")).body) as {
    ok: boolean;
    maintenance: string[] | null;
  };
  expect(verify, `${label}: verify`).toMatchObject({ ok: true });
  expect(verify.maintenance !== null, `${label}: in maintenance`).toBe(expected.maintenance);
  // web had replicas to spare throughout: not one request may fail.
  const spare = ["start", "restart", "cutover"];
  if (spare.includes(first) && spare.includes(second) && !start.maintenance) {
    expect(n, `${label}: requests through the edge`).toBeGreaterThan(0);
    expect(failed, `${label}: failed requests through the edge`).toEqual([]);
  }
  return expected;
}

describe("reported races", () => {
  it("`stop web` then `restart web`: web runs and verify agrees — also after `daemon restart`", async () => {
    const a = await app();
    expect((await steward(a.dir, "stop", "web")).code).toBe(0);
    const restart = await steward(a.dir, "restart", "web");
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(await webStates(a.dir)).toEqual(["ready", "ready"]);
    const verify = await steward(a.dir, "verify");
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const handover = await steward(a.dir, "daemon", "restart");
    expect(handover.code, handover.stdout + handover.stderr).toBe(0);
    await waitFor("the next daemon active", async () => (await status(a.dir)).daemon.state === "active");
    const again = await steward(a.dir, "verify");
    expect(again.code, again.stdout + again.stderr).toBe(0);
  }, 60_000);

  it("`restart web &` then `stop web`: the stop waits, says so, and web ends stopped", async () => {
    const a = await app();
    // The restart's first replacement cannot become ready until `never-ready` goes: it is under way.
    const run = path.join(a.root, "run");
    fs.writeFileSync(path.join(run, "never-ready"), "");
    const restart = steward(a.dir, "restart", "web");
    await waitFor("the restart to be under way", async () =>
      (await status(a.dir)).components[0]!.replicas.some((r) => r.index >= 2),
    );
    const stop = steward(a.dir, "stop", "web");
    const log = path.join(homeOf(a.dir), "logs", "daemon.log");
    await waitFor("the stop to wait", () =>
      /`stop web` \(op-\S+\) waits for `restart web`/.test(fs.readFileSync(log, "utf8")),
    );
    fs.rmSync(path.join(run, "never-ready"));
    const [r, s] = await Promise.all([restart, stop]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toMatch(
      /`stop web` \(op-\S+\) waits for `restart web` \(op-\S+, running\) to finish: operations on the same component run one at a time, in the order asked/,
    );
    expect(await webStates(a.dir)).toEqual(["stopped", "stopped"]);
    const verify = await steward(a.dir, "verify");
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const pids = (await status(a.dir)).components[0]!.replicas.map((x) => x.pid);
    expect(pids.filter((p) => p !== null && alive(p))).toEqual([]);
  }, 60_000);

  it("20 parallel `restart web` under load: no failed request, no duplicated slot; the queued ones are superseded", async () => {
    const a = await app();
    const loop = requestLoop(a.port);
    const asked = Array.from({ length: 20 }, () => ask(a.dir, ...REQUEST.restart));
    const answers = await Promise.all(asked.map((x) => x.done));
    const { n, failed } = await loop.stop();
    const doc = await status(a.dir);
    expect(slotsOf(doc)).toEqual([[expect.any(Number)], [expect.any(Number)]]);
    expect(n).toBeGreaterThan(20);
    expect(failed).toEqual([]);
    for (const r of answers) expect(r.ok, r.text).toBe(true);
    expect(await webStates(a.dir)).toEqual(["ready", "ready"]);
    const superseded = answers.filter((r) => r.lines.at(-1)?.result?.superseded);
    expect(superseded.length).toBeGreaterThan(0);
    expect(superseded[0]!.lines.at(-1)!.result!.superseded!.operation).toBe("restart web");
    expect((await steward(a.dir, "verify")).code).toBe(0);
  }, 120_000);

  it("a queued `restart web` is superseded by a later `stop web`, and its CLI says so", async () => {
    const a = await app();
    const run = path.join(a.root, "run");
    fs.writeFileSync(path.join(run, "never-ready"), "");
    const first = steward(a.dir, "restart", "web");
    await waitFor("the first restart under way", async () =>
      (await status(a.dir)).components[0]!.replicas.some((r) => r.index >= 2),
    );
    const log = path.join(homeOf(a.dir), "logs", "daemon.log");
    const queued = steward(a.dir, "restart", "web");
    await waitFor("the second restart queued", () =>
      /`restart web` \(op-\S+\) waits for/.test(fs.readFileSync(log, "utf8")),
    );
    const stop = steward(a.dir, "stop", "web");
    await waitFor("the supersession", () => /is superseded by `stop web`/.test(fs.readFileSync(log, "utf8")));
    fs.rmSync(path.join(run, "never-ready"));
    const [, q, s] = await Promise.all([first, queued, stop]);
    expect(q.code, q.stdout + q.stderr).toBe(0);
    expect(q.stdout).toMatch(
      /racing: this `restart` did not run: superseded by `stop web` \(op-\S+\), asked later; its outcome:/,
    );
    expect(s.code).toBe(0);
    expect(await webStates(a.dir)).toEqual(["stopped", "stopped"]);
    expect((await steward(a.dir, "verify")).code).toBe(0);
  }, 60_000);
});

describe("every pair of operations issued concurrently", () => {
  const shared = KINDS.filter((k) => k !== "down");
  for (const first of shared)
    it(`${first} then each of ${shared.join(", ")}`, async () => {
      const a = await app();
      let model: Model = { web: "running", maintenance: false, finalized: false, daemon: true };
      for (const second of shared) {
        // A session finalized earlier and not cut over is still there.
        const start = {
          ...initial(first, second),
          finalized: initial(first, second).finalized || model.finalized,
        };
        await reset(a, start, model);
        model = await pair(a, first, second, start);
      }
    }, 300_000);

  const withDown: [Kind, Kind][] = [
    ...KINDS.map((k): [Kind, Kind] => ["down", k]),
    ...KINDS.filter((k) => k !== "down").map((k): [Kind, Kind] => [k, "down"]),
  ];
  for (const [first, second] of withDown)
    it(`${first} then ${second}: a daemon of its own; nothing is left running`, async () => {
      const a = await app();
      const start = initial(first, second);
      await reset(a, start, { web: "running", maintenance: false, finalized: false, daemon: true });
      await pair(a, first, second, start);
    }, 90_000);
});
