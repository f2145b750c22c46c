/**
 * The patch API holds one phase at a time, and releases that lock however a phase ends: refused
 * input (checked before the lock is taken), a phase that throws before its first await, a phase
 * that fails while it runs. For every phase, a bad call over the API is followed by a good one
 * that must run — not be refused with "`patch …` is running".
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { editionApp, streamLines, type StreamLine } from "./edition-app.js";
import { api, steward } from "./helpers.js";

/** POST a phase; the status and, for a stream, its lines. */
async function phase(
  dir: string,
  name: string,
  body: unknown,
): Promise<{ status: number; lines: StreamLine[]; text: string }> {
  const res = await api(dir, "POST", `/v1/patch/${name}`, JSON.stringify(body));
  const lines = streamLines(res.status, res.body);
  return { status: res.status, lines, text: res.body };
}

/** A good call: it ran (it was not refused as "is running") and ended with a patch result. */
async function runs(dir: string, name: string, body: unknown = {}): Promise<void> {
  const r = await phase(dir, name, body);
  expect(r.text).not.toMatch(/is running/);
  expect(r.status, r.text).toBe(200);
  const last = r.lines.at(-1)!;
  expect(last.type, r.text).toBe("patch");
  expect(last.result).toMatchObject({ ok: true, phase: name });
}

/** A bad call: refused with 400 and a message saying what is wrong. */
async function refused(dir: string, name: string, body: unknown, message: RegExp): Promise<void> {
  const r = await phase(dir, name, body);
  expect(r.status, r.text).toBe(400);
  expect(r.text).toMatch(message);
}

async function app(): Promise<string> {
  return (await editionApp({ name: "locked", readyWithin: "5s" })).dir;
}

function patchDir(dir: string, id: string): string {
  const p = path.join(dir, "patches", id);
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), `id: ${id}\ndescription: test patch ${id}\n`);
  fs.writeFileSync(path.join(p, "files", "version.txt"), "2\n");
  return p;
}

describe("the patch phase lock", () => {
  it("every phase: bad input, then a good call runs; a phase failing at run time releases it too", async () => {
    const dir = await app();
    // fs-clone and cleanup outside a session.
    await refused(dir, "fs-clone", { force: "yes" }, /`force` must be a boolean/);
    await refused(dir, "cleanup", { mode: "bogus" }, /`mode` must be quick, standard or full/);
    await runs(dir, "cleanup", { mode: "quick" });
    await refused(dir, "prepare", { skipSyncErrors: 1 }, /`skipSyncErrors` must be a boolean/);
    await runs(dir, "prepare");
    await refused(dir, "apply", { patches: [] }, /`patches` must name at least one patch/);
    await refused(dir, "apply", {}, /`patches` must name at least one patch/);
    // Fails while it runs (no such patch): an error line, and the lock is free again.
    const missing = await phase(dir, "apply", { patches: [path.join(dir, "no-such-patch")] });
    expect(missing.status).toBe(200);
    expect(missing.lines.at(-1)?.type, missing.text).toBe("error");
    await runs(dir, "apply", { patches: [patchDir(dir, "v2")] });
    await refused(dir, "finalize", { now: true }, /unknown key `now`/);
    await runs(dir, "finalize");
    await refused(dir, "cutover", { waitJobs: "1s" }, /`waitJobs` must be a whole number of milliseconds/);
    await runs(dir, "cutover");
    await refused(dir, "cleanup", { mode: "bogus" }, /`mode` must be quick, standard or full/);
    await runs(dir, "cleanup");
    // A new cycle to abort.
    await runs(dir, "prepare");
    await refused(dir, "abort", { cleanup: "no" }, /`cleanup` must be a boolean/);
    await runs(dir, "abort");
    await refused(dir, "fs-clone", { force: 1 }, /`force` must be a boolean/);
    await runs(dir, "fs-clone", { force: true });
    // Refused by phase order (thrown inside the phase): still released.
    const early = await phase(dir, "finalize", {});
    expect(early.lines.at(-1)?.type, early.text).toBe("error");
    await runs(dir, "cleanup", { mode: "quick" });
  }, 120_000);

  it("the CLI: `patch cleanup --mode bogus` then `patch cleanup` works", async () => {
    const dir = await app();
    const bad = await steward(dir, "patch", "cleanup", "--mode", "bogus");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/mode/);
    const good = await steward(dir, "patch", "cleanup");
    expect(good.stderr).not.toMatch(/is running/);
    expect(good.code, good.stdout + good.stderr).toBe(0);
  }, 60_000);
});
