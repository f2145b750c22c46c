/**
 * `patching.exclude` patterns mean what `.gitignore` lines mean (docs/patching.md): names anywhere,
 * `dir/`, anchored `/build`, `**`, character classes, escapes, `!` re-inclusion — each documented
 * case, and the ones the hand-written matcher got wrong (`a/**\/b` on `a/xb`, `**\/cache` on
 * `mycache`, `[oa]` and `!keep.log` taken literally). Then delta sync honouring them on real trees.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deltaSync } from "../../src/patching/delta.js";
import { compileExclude } from "../../src/patching/exclude.js";

/** [patterns, path, isDir, excluded] */
type Case = [string[], string, boolean, boolean];

const cases: Case[] = [
  // a name glob matches anywhere, files and directories, and everything under such a directory
  [["*.log"], "debug.log", false, true],
  [["*.log"], "a/b/c.log", false, true],
  [["*.log"], "app.log.1", false, false],
  [["*.log"], "a.logx", false, false],
  [["*.log"], "old.log/inner.txt", false, true],
  [["node_modules"], "pkg/node_modules/x/index.js", false, true],
  [["node_modules"], "node_modules_old", true, false],
  // `dir/`: a directory of that name anywhere, with everything under it; never a file
  [["tmp/"], "tmp", true, true],
  [["tmp/"], "a/b/tmp", true, true],
  [["tmp/"], "tmp", false, false],
  [["tmp/"], "a/tmp", false, false],
  [["tmp/"], "tmp/cache/x.bin", false, true],
  [["tmp/"], "mytmp", true, false],
  // `/name`: anchored at the edition root
  [["/build"], "build", true, true],
  [["/build"], "build/out/app.js", false, true],
  [["/build"], "src/build", true, false],
  [["/build"], "builder", true, false],
  // a `/` inside anchors the pattern; `*` stays within one segment
  [["conf/*.local"], "conf/db.local", false, true],
  [["conf/*.local"], "other/conf/db.local", false, false],
  [["conf/*.local"], "conf/sub/db.local", false, false],
  // `**`
  [["**/cache"], "cache", true, true],
  [["**/cache"], "a/b/cache", true, true],
  [["**/cache"], "a/mycache", true, false],
  [["**/cache"], "a/cache/z", false, true],
  [["logs/**"], "logs/a/b/c", false, true],
  [["logs/**"], "logs", true, false],
  [["logs/**"], "x/logs/a", false, false],
  [["a/**/b"], "a/b", false, true],
  [["a/**/b"], "a/x/y/b", false, true],
  [["a/**/b"], "a/xb", false, false],
  [["**/*.map"], "dist/js/app.js.map", false, true],
  // `?`, character classes, escapes
  [["?.txt"], "a.txt", false, true],
  [["?.txt"], "ab.txt", false, false],
  [["file[oa].txt"], "fileo.txt", false, true],
  [["file[oa].txt"], "filea.txt", false, true],
  [["file[oa].txt"], "file[oa].txt", false, false],
  [["file[0-9].bin"], "file7.bin", false, true],
  [["file[!0-9].bin"], "fileX.bin", false, true],
  [["file[!0-9].bin"], "file7.bin", false, false],
  [["\\!important"], "!important", false, true],
  [["\\#notes"], "#notes", false, true],
  [["#notes"], "#notes", false, false], // a comment, as in .gitignore
  // `!` re-includes what an earlier pattern excluded…
  [["*.log", "!keep.log"], "keep.log", false, false],
  [["*.log", "!keep.log"], "a/keep.log", false, false],
  [["*.log", "!keep.log"], "a/other.log", false, true],
  [["!keep.log", "*.log"], "keep.log", false, true], // the last matching pattern wins
  // …but not inside an excluded directory, which is never looked into
  [["logs/", "!logs/keep.log"], "logs/keep.log", false, true],
  // case-sensitive
  [["*.LOG"], "a.log", false, false],
];

describe("compileExclude", () => {
  it.each(cases)("%j on %s (dir: %s) → %s", (patterns, rel, isDir, excluded) => {
    expect(compileExclude(patterns)(rel, isDir)).toBe(excluded);
  });

  it("no patterns exclude nothing; the root itself is never excluded", () => {
    expect(compileExclude([])("anything", false)).toBe(false);
    expect(compileExclude(["**"])("", true)).toBe(false);
    expect(compileExclude(["**"])("a/b", false)).toBe(true);
  });

  it("refuses an empty pattern, naming its index", () => {
    expect(() => compileExclude(["*.log", "  "])).toThrow(
      "patching.exclude[1]: an empty pattern excludes nothing; remove it",
    );
    expect(() => compileExclude(["/"])).toThrow(/exclude\[0\]: an empty pattern/);
  });
});

describe("delta sync with exclude", () => {
  it("leaves excluded paths alone in both trees, and re-included ones are synced", async () => {
    const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ex-")));
    const from = path.join(tmp, "run");
    const to = path.join(tmp, "patch");
    const put = (root: string, rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    for (const rel of ["app.js", "a.log", "keep.log", "cache/x", "a/xb", "a/b", "mycache/y", "fileo.txt"])
      put(from, rel, `run ${rel}`);
    put(to, "tmp-only.log", "patch's own log");
    put(to, "cache/mine", "patch's own cache");
    const d = await deltaSync(from, to, ["*.log", "!keep.log", "**/cache", "a/**/b", "file[oa].txt"]);
    const files = (fs.readdirSync(to, { recursive: true }) as string[])
      .filter((r) => fs.statSync(path.join(to, r)).isFile())
      .sort();
    expect(files).toEqual(["a/xb", "app.js", "cache/mine", "keep.log", "mycache/y", "tmp-only.log"]);
    expect(d.deleted).toBe(0);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
