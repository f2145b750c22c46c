import { tmpdir } from "node:os";
import { join } from "node:path";
import ignore from "ignore";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { compileExclude } from "../../src/patching/exclude.js";
import { parseTopology } from "../../src/topology/index.js";

const file = join(tmpdir(), "steward.yaml");
const topology = (exclude: string[]): string =>
  `components:\n  engine: { command: node engine.js }\npatching:\n  root: /srv/shop\n  exclude:\n${exclude
    .map((p) => `    - ${JSON.stringify(p)}\n`)
    .join("")}`;

function issues(exclude: string[]): [number, string, string][] {
  try {
    parseTopology(topology(exclude), file, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

/** Paths a pattern could be meant for: none of them is excluded by a pattern refused below. */
const PATHS = [
  "a",
  "a/b",
  "build",
  "x/build",
  "#c",
  "c",
  "d[",
  "dx",
  "logs/x.log",
  "shop/logs",
  "logs",
  "keep.log",
];

describe("patching.exclude patterns", () => {
  it("the documented patterns pass validate as written", () => {
    const documented = [
      "*.log",
      "tmp/",
      "/build",
      "conf/*.local",
      "**/cache",
      "a/**/b",
      "logs/**",
      "?.txt",
      "file[0-9].bin",
      "file[!0-9].bin",
      "[]]x",
      "[[:digit:]]*.bin",
      "!keep.log",
      "\\!name",
      "\\#name",
      "trailing\\ ",
      "odd\\\\",
    ];
    const t = parseTopology(topology(documented), file, { env: {} });
    expect(t.patching?.exclude).toEqual(documented);
  });

  it("each refused pattern is located at its line, says what is wrong and what to write", () => {
    const found = issues([
      "*.log",
      "  ",
      "#notes",
      "!",
      "dir\\",
      "../shared",
      "d[",
      "[[:digits:]]",
      "/srv/shop/logs",
      "!/srv/shop",
    ]);
    expect(found.map(([line, path]) => [line, path])).toEqual([
      [7, "patching.exclude[1]"],
      [8, "patching.exclude[2]"],
      [9, "patching.exclude[3]"],
      [10, "patching.exclude[4]"],
      [11, "patching.exclude[5]"],
      [12, "patching.exclude[6]"],
      [13, "patching.exclude[7]"],
      [14, "patching.exclude[8]"],
      [15, "patching.exclude[9]"],
    ]);
    const messages = found.map(([, , m]) => m);
    expect(messages[0]).toMatch(/empty pattern excludes nothing; remove it/);
    expect(messages[1]).toMatch(/`#notes`: .*comment.*write `\\#name`/);
    expect(messages[2]).toMatch(/lone `!` re-includes nothing/);
    expect(messages[3]).toMatch(/`dir\\`: .*ending with a lone `\\`.*remove the `\\`/);
    expect(messages[4]).toMatch(/never contain `\.\.`/);
    expect(messages[5]).toMatch(/`\[` at character 2 .*never closed.*`\\\[`/);
    expect(messages[6]).toMatch(/`\[:digits:\]` is not a character class/);
    expect(messages[7]).toMatch(/absolute path inside `patching.root`.*write `\/logs`/);
    expect(messages[8]).toMatch(/write `!\/<path>`/);
  });

  it("a line break or a NUL in a pattern is refused", () => {
    expect(issues(["a\nb"])[0]?.[2]).toMatch(/one `.gitignore` line: split it/);
    expect(issues(["a\u0000b"])[0]?.[2]).toMatch(/NUL/);
  });

  it("what is refused is what the matcher would have dropped or never matched", () => {
    for (const p of ["#c", "!", "c\\", "../a", "d[", "[[:digits:]]x", "/srv/shop/logs"]) {
      const matcher = ignore({ ignorecase: false }).add([p]);
      expect(
        PATHS.filter((path) => matcher.ignores(path)),
        p,
      ).toEqual([]);
    }
    // …while what passes does match: the check does not refuse working patterns.
    expect(compileExclude(["/build", "[]]x", "\\#c"])("build", false)).toBe(true);
    expect(compileExclude(["[]]x"])("]x", false)).toBe(true);
    expect(compileExclude(["\\#c"])("#c", false)).toBe(true);
    expect(compileExclude(["/build"])("x/build", false)).toBe(false);
  });
});
