// Start and stop follow the dependency graph (design §3, docs/stopping.md "Order between
// components"), checked on a diamond a ← b, a ← c, (b, c) ← d of real processes that stamp the
// moment they spawn, are ready, get SIGTERM and exit.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { node, project, replica, status, steward, Stamps, type StatusDocument } from "./helpers.js";

const READY_MS = 300;
const EXIT_MS = 200;
/** Two things started "in parallel" happen within this many ms of each other. */
const TOGETHER_MS = 150;

const component = (name: string, dependsOn: string[]): string => `
  ${name}:
    command: ${node("stamp.js", name)}
    env: { STAMP_FILE: "{dir}/stamps.log", STAMP_READY_MS: "${READY_MS}", STAMP_EXIT_MS: "${EXIT_MS}" }
    ready: { log: "^READY ${name}$", interval: 20ms, within: 10s }
    stop: { grace: 5s }${dependsOn.length > 0 ? `\n    depends_on: [${dependsOn.join(", ")}]` : ""}`;

const DIAMOND = `name: diamond
components:${component("a", [])}${component("b", ["a"])}${component("c", ["a"])}${component("d", ["b", "c"])}
`;

const stampsOf = (dir: string): Stamps => new Stamps(path.join(dir, "stamps.log"));
const clearStamps = (dir: string): void => fs.writeFileSync(path.join(dir, "stamps.log"), "");

function pids(doc: StatusDocument): Record<string, number | null> {
  return Object.fromEntries(doc.components.map((c) => [c.name, c.replicas[0]?.pid ?? null]));
}

function states(doc: StatusDocument): Record<string, string | undefined> {
  return Object.fromEntries(doc.components.map((c) => [c.name, c.replicas[0]?.state]));
}

async function up(dir: string): Promise<void> {
  const res = await steward(dir, "up");
  expect(res.code, res.stdout + res.stderr).toBe(0);
  expect(states(await status(dir))).toEqual({ a: "ready", b: "ready", c: "ready", d: "ready" });
}

/** `names` started in dependency order: each after what it depends on was ready. */
function expectStartOrder(s: Stamps, names: string[]): void {
  const spawn = (n: string): number => s.one(n, "spawn");
  const ready = (n: string): number => s.one(n, "ready");
  const why = `\n${s.toString()}`;
  if (names.includes("a")) {
    expect(spawn("b"), `b spawned after a was ready${why}`).toBeGreaterThanOrEqual(ready("a"));
    expect(spawn("c"), `c spawned after a was ready${why}`).toBeGreaterThanOrEqual(ready("a"));
  }
  // b and c in parallel: spawned together, both before either was ready.
  expect(Math.abs(spawn("b") - spawn("c")), `b and c spawned together${why}`).toBeLessThanOrEqual(
    TOGETHER_MS,
  );
  expect(Math.max(spawn("b"), spawn("c")), `b and c both spawned before either was ready${why}`).toBeLessThan(
    Math.min(ready("b"), ready("c")),
  );
  expect(spawn("d"), `d spawned after b and c were ready${why}`).toBeGreaterThanOrEqual(
    Math.max(ready("b"), ready("c")),
  );
}

/** Every component stopped in reverse dependency order: d, then b and c together, then a. */
function expectReverseStopOrder(s: Stamps): void {
  const term = (n: string): number => s.one(n, "sigterm");
  const exit = (n: string): number => s.one(n, "exit");
  const why = `\n${s.toString()}`;
  expect(term("b"), `b got SIGTERM after d exited${why}`).toBeGreaterThanOrEqual(exit("d"));
  expect(term("c"), `c got SIGTERM after d exited${why}`).toBeGreaterThanOrEqual(exit("d"));
  // b and c in parallel: each got its SIGTERM before the other one exited.
  expect(Math.abs(term("b") - term("c")), `b and c signalled together${why}`).toBeLessThanOrEqual(
    TOGETHER_MS,
  );
  expect(term("b"), `b signalled before c exited${why}`).toBeLessThan(exit("c"));
  expect(term("c"), `c signalled before b exited${why}`).toBeLessThan(exit("b"));
  expect(term("a"), `a got SIGTERM last, after b and c exited${why}`).toBeGreaterThanOrEqual(
    Math.max(exit("b"), exit("c")),
  );
}

describe("dependency order on a diamond a ← b, a ← c, (b, c) ← d", () => {
  it("`up` starts a, then b and c in parallel once a is ready, then d once both are ready", async () => {
    const dir = project(DIAMOND);
    await up(dir);
    const s = stampsOf(dir);
    expectStartOrder(s, ["a", "b", "c", "d"]);
    expect(s.all("a", "sigterm")).toEqual([]);
  });

  it("`stop` (all) stops d first, then b and c in parallel, a last", async () => {
    const dir = project(DIAMOND);
    await up(dir);
    clearStamps(dir);
    const res = await steward(dir, "stop");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expectReverseStopOrder(stampsOf(dir));
    const doc = await status(dir);
    expect(states(doc)).toEqual({ a: "stopped", b: "stopped", c: "stopped", d: "stopped" });
    expect(pids(doc)).toEqual({ a: null, b: null, c: null, d: null });
    expect(doc.daemon.state).toBe("active");
  });

  it("`down` stops in the same reverse order and the daemon exits", async () => {
    const dir = project(DIAMOND);
    await up(dir);
    clearStamps(dir);
    const res = await steward(dir, "down");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expectReverseStopOrder(stampsOf(dir));
    expect(fs.existsSync(path.join(dir, ".steward", "steward.sock"))).toBe(false);
  });

  it("`stop b` stops d first and leaves a and c running; `start d` starts b again, then d", async () => {
    const dir = project(DIAMOND);
    await up(dir);
    const before = pids(await status(dir));
    clearStamps(dir);

    const stop = await steward(dir, "stop", "b");
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    let s = stampsOf(dir);
    expect(s.one("b", "sigterm"), `b signalled after d exited\n${s.toString()}`).toBeGreaterThanOrEqual(
      s.one("d", "exit"),
    );
    expect(s.all("a", "sigterm"), "a was not signalled").toEqual([]);
    expect(s.all("c", "sigterm"), "c was not signalled").toEqual([]);
    let doc = await status(dir);
    expect(states(doc)).toEqual({ a: "ready", b: "stopped", c: "ready", d: "stopped" });
    expect(pids(doc)).toMatchObject({ a: before.a, c: before.c });

    clearStamps(dir);
    const start = await steward(dir, "start", "d");
    expect(start.code, start.stdout + start.stderr).toBe(0);
    s = stampsOf(dir);
    expect(s.one("d", "spawn"), `d spawned after b was ready\n${s.toString()}`).toBeGreaterThanOrEqual(
      s.one("b", "ready"),
    );
    expect(s.all("a", "spawn"), "a (already running) was not started again").toEqual([]);
    expect(s.all("c", "spawn"), "c (already running) was not started again").toEqual([]);
    doc = await status(dir);
    expect(states(doc)).toEqual({ a: "ready", b: "ready", c: "ready", d: "ready" });
    expect(pids(doc)).toMatchObject({ a: before.a, c: before.c });
    expect((await replica(dir, "b")).pid).not.toBe(before.b);
  });

  it("`restart a` stops everything that depends on a (dependants first), then starts it all in order", async () => {
    const dir = project(DIAMOND);
    await up(dir);
    const before = pids(await status(dir));
    clearStamps(dir);

    const res = await steward(dir, "restart", "a");
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const s = stampsOf(dir);
    expectReverseStopOrder(s);
    const lastExit = Math.max(...["a", "b", "c", "d"].map((n) => s.one(n, "exit")));
    expect(
      s.one("a", "spawn"),
      `a started again after everything stopped\n${s.toString()}`,
    ).toBeGreaterThanOrEqual(lastExit);
    expectStartOrder(s, ["a", "b", "c", "d"]);
    const after = pids(await status(dir));
    for (const name of ["a", "b", "c", "d"]) {
      expect(after[name], `${name} has a new process`).not.toBeNull();
      expect(after[name], `${name} has a new process`).not.toBe(before[name]);
    }
    expect(states(await status(dir))).toEqual({ a: "ready", b: "ready", c: "ready", d: "ready" });
  });
});
