// Hostile or huge topology files give a located error, cheaply: a file over 1 MiB is refused by its
// size, an alias bomb is named at its first alias, bytes that are not UTF-8 and NUL in a value are
// refused at `validate` (not at `up`), and one error lists at most 50 problems and counts the rest.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { loadTopology } from "../../src/topology/index.js";
import { MAX_REPORTED_ISSUES, MAX_TOPOLOGY_BYTES } from "../../src/topology/source-guards.js";

function write(content: string | Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), "stw-guard-")), "steward.yaml");
  writeFileSync(file, content);
  return file;
}

function errorOf(file: string): TopologyError {
  try {
    loadTopology(file, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return err as TopologyError;
  }
  throw new Error("expected a TopologyError");
}

const issue = (e: TopologyError): [number, number, string, string] => {
  const i = e.issues[0]!;
  return [i.line, i.column, i.path, i.message];
};

describe("topology source guards", () => {
  it("a file over 1 MiB is refused by its size before it is parsed", () => {
    const body = "components:\n  a:\n    command: x\n" + "# padding\n".repeat(110_000);
    const file = write(body);
    const started = Date.now();
    const e = errorOf(file);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(e.code).toBe("STW-1001");
    expect(e.issues).toHaveLength(1);
    expect(issue(e)).toEqual([
      1,
      1,
      "",
      `the file is ${Buffer.byteLength(body)} bytes, over the limit of ${MAX_TOPOLOGY_BYTES} bytes (1 MiB) for a topology`,
    ]);
  });

  it("a file just under the limit is read", () => {
    const head = "components:\n  a:\n    command: x\n";
    const file = write(head + "#".repeat(MAX_TOPOLOGY_BYTES - head.length - 1) + "\n");
    expect(loadTopology(file, { env: {} }).components.map((c) => c.name)).toEqual(["a"]);
  });

  it("an alias bomb is a located error, not a stack trace", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [..."abcdef"].map((c, i) => [c, "bcdefg"[i]!]))
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    const e = errorOf(write(`${levels.join("\n")}\ncomponents:\n  x:\n    command: sleep 1\n`));
    expect(issue(e)).toEqual([
      2,
      8,
      "",
      "YAML aliases expand too much (over 1000 alias uses, from `*a`): write the values out, or use fewer aliases",
    ]);
  });

  it("bytes that are not UTF-8 are refused at their line and column", () => {
    const latin1 = Buffer.concat([
      Buffer.from('components:\n  a:\n    command: x\n    env: { X: "caf'),
      Buffer.from([0xe9]),
      Buffer.from('" }\n'),
    ]);
    expect(issue(errorOf(write(latin1)))).toEqual([
      4,
      19,
      "",
      "byte 0xE9 is not UTF-8; save the file as UTF-8",
    ]);
    // A truncated multi-byte sequence after a valid one: the column counts characters.
    const truncated = Buffer.concat([Buffer.from("name: é"), Buffer.from([0xe2, 0x82]), Buffer.from("\n")]);
    expect(issue(errorOf(write(truncated)))).toEqual([
      1,
      8,
      "",
      "byte 0xE2 is not UTF-8; save the file as UTF-8",
    ]);
  });

  it("a NUL in an environment value, an argument or a key is refused at validate with its location", () => {
    const e = errorOf(
      write(
        [
          "components:",
          "  a:",
          '    command: [sleep, "1\\0"]',
          '    env: { X: "a\\0b", "Y\\0": z }',
          "",
        ].join("\n"),
      ),
    );
    const where = e.issues.map((i) => [i.line, i.column, i.path]);
    expect(where.slice(0, 2)).toEqual([
      [3, 22, "components.a.command[1]"],
      [4, 15, "components.a.env.X"],
    ]);
    expect(where).toContainEqual([4, 23, "components.a.env.Y\0"]);
    expect(e.issues[1]!.message).toBe(
      "contains a NUL byte (`\\0`), which no command, argument, environment value or path can carry; remove it",
    );
  });

  it("thousands of problems: the first 50 are listed and the rest counted, quickly", () => {
    let text = "components:\n";
    for (let i = 0; i < 5_000; i++) text += `  c${i}:\n    command: x\n    bogus: 1\n`;
    const started = Date.now();
    const e = errorOf(write(text));
    expect(e.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(e.details.more).toBe(5_000 - MAX_REPORTED_ISSUES);
    expect(e.message.split("\n").at(-1)).toBe("  … and 4950 more problems (fix these first)");
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("a duplicate key is still refused, at the repeated key", () => {
    const e = errorOf(write("components:\n  a:\n    command: x\n  a:\n    command: y\n"));
    expect(issue(e)).toEqual([4, 3, "", "YAML syntax error: Map keys must be unique"]);
  });
});
