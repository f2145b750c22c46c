import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
  truncateSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signalGroup, waitGroupExit } from "../../src/process/kill.js";
import { follow, rotateIfNeeded, tailLines } from "../../src/process/logfile.js";
import { spawnReplica } from "../../src/process/spawn.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let dir: string;
let logFile: string;
const groups: number[] = [];
const stops: (() => void)[] = [];

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

const sizeOf = (file: string): number => (existsSync(file) ? statSync(file).size : 0);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "steward-logfile-"));
  logFile = path.join(dir, "engine.0.log");
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const pgid of groups.splice(0)) {
    signalGroup(pgid, "SIGKILL");
    await waitGroupExit(pgid, 5000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("rotateIfNeeded", () => {
  it("does nothing below the limit or for a missing file", async () => {
    expect(await rotateIfNeeded(logFile, { maxBytes: 100, keep: 3 })).toBe(false);
    writeFileSync(logFile, "small\n");
    expect(await rotateIfNeeded(logFile, { maxBytes: 100, keep: 3 })).toBe(false);
    expect(existsSync(`${logFile}.1`)).toBe(false);
  });

  it("shifts the rotated files and drops the oldest", async () => {
    const spec = { maxBytes: 10, keep: 2 };
    for (const content of ["first run.\n", "second run\n", "third run.\n"]) {
      writeFileSync(logFile, content, { flag: "a" });
      expect(await rotateIfNeeded(logFile, spec)).toBe(true);
    }
    expect(readFileSync(logFile, "utf8")).toBe("");
    expect(readFileSync(`${logFile}.1`, "utf8")).toBe("third run.\n");
    expect(readFileSync(`${logFile}.2`, "utf8")).toBe("second run\n");
    expect(existsSync(`${logFile}.3`)).toBe(false);
  });

  it("keeps N files while a replica keeps writing into the current one through its O_APPEND descriptor", async () => {
    const r = await spawnReplica({
      command: ["node", fixture("writes-lines.js"), "2", "100"],
      cwd: dir,
      env: process.env,
      logFile,
    });
    groups.push(r.pgid);
    const spec = { maxBytes: 2000, keep: 3 };
    let rotations = 0;
    while (rotations < 5) {
      await waitFor(() => sizeOf(logFile) >= spec.maxBytes);
      if (await rotateIfNeeded(logFile, spec)) rotations++;
    }
    const sizeAfter = sizeOf(logFile);
    await waitFor(() => sizeOf(logFile) > sizeAfter + 300);

    const files = ["", ".1", ".2", ".3", ".4"].map((suffix) => existsSync(`${logFile}${suffix}`));
    expect(files).toEqual([true, true, true, true, false]);
    const current = readFileSync(logFile, "utf8");
    // The writer's next write lands at the new end: no hole of NUL bytes where the old content was.
    expect(current.includes("\0")).toBe(false);
    expect(current.split("\n")[1]).toMatch(/^line \d+ x+$/);
    // The rotated files hold whole lines in order; the last rotated line precedes the current file's lines.
    const rotated = readFileSync(`${logFile}.1`, "utf8").trimEnd().split("\n");
    const lastRotated = Number(/^line (\d+)/.exec(rotated[rotated.length - 1] ?? "")?.[1]);
    const firstCurrent = Number(/line (\d+)/.exec(current)?.[1]);
    expect(firstCurrent).toBeGreaterThan(lastRotated);
  });
});

describe("tailLines", () => {
  it("returns the last N lines of a large file", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"y".repeat(20)}`);
    writeFileSync(logFile, lines.join("\n") + "\n");
    expect(await tailLines(logFile, 3)).toEqual(lines.slice(-3));
    expect(await tailLines(logFile, 5000)).toEqual(lines.slice(-5000));
  });

  it("handles an unterminated last line, short files, CRLF and missing files", async () => {
    writeFileSync(logFile, "a\r\nb\nc");
    expect(await tailLines(logFile, 2)).toEqual(["b", "c"]);
    expect(await tailLines(logFile, 10)).toEqual(["a", "b", "c"]);
    expect(await tailLines(logFile, 0)).toEqual([]);
    writeFileSync(logFile, "");
    expect(await tailLines(logFile, 3)).toEqual([]);
    expect(await tailLines(path.join(dir, "missing.log"), 3)).toEqual([]);
  });

  it("keeps multi-byte characters whole", async () => {
    writeFileSync(logFile, `${"é".repeat(70_000)}\nlast ✓\n`);
    expect(await tailLines(logFile, 2)).toEqual(["é".repeat(70_000), "last ✓"]);
  });
});

describe("follow", () => {
  it("delivers appended text and starts over after a truncation", async () => {
    writeFileSync(logFile, "before\n");
    let seen = "";
    stops.push(follow(logFile, statSync(logFile).size, (text) => (seen += text), { pollMs: 10 }));
    appendFileSync(logFile, "one\n");
    await waitFor(() => seen === "one\n");
    truncateSync(logFile, 0);
    await sleep(50);
    appendFileSync(logFile, "two\n");
    await waitFor(() => seen === "one\ntwo\n");
  });

  it("waits for a file that does not exist yet and stops when asked", async () => {
    let seen = "";
    const stop = follow(logFile, 0, (text) => (seen += text), { pollMs: 10 });
    await sleep(30);
    writeFileSync(logFile, "hello\n");
    await waitFor(() => seen === "hello\n");
    stop();
    appendFileSync(logFile, "after stop\n");
    await sleep(60);
    expect(seen).toBe("hello\n");
  });
});
