import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  hasShellSyntax,
  parseCommand,
  resolveExecutable,
  splitShellWords,
} from "../../src/process/command.js";
import { SpawnError } from "../../src/process/errors.js";

describe("splitShellWords", () => {
  it.each([
    ["node server.js --port 7001", ["node", "server.js", "--port", "7001"]],
    ["  node\t a.js  ", ["node", "a.js"]],
    [`printf '%s\\n' "a b" c\\ d`, ["printf", "%s\\n", "a b", "c d"]],
    [`echo "say \\"hi\\"" 'it''s'`, ["echo", 'say "hi"', "its"]],
    [`echo "a\\b" ''`, ["echo", "a\\b", ""]],
    ["grep 'a|b;c' file", ["grep", "a|b;c", "file"]],
    ["node --opt=value x=1", ["node", "--opt=value", "x=1"]],
    ["", []],
  ])("splits %j", (input, words) => {
    expect(splitShellWords(input)).toEqual(words);
  });

  it.each([
    "make && make test",
    "node a.js > out.log",
    "echo $HOME",
    'echo "$HOME"',
    "echo `date`",
    "ls *.js",
    "cd ~",
    "a; b",
    "a | b",
    "(a)",
    "a\nb",
    "PORT=1 node a.js",
    "echo a # comment",
  ])("needs a shell: %j", (input) => {
    expect(splitShellWords(input)).toBeUndefined();
    expect(hasShellSyntax(input)).toBe(true);
  });

  it("rejects an unterminated quote with the command in the message", () => {
    expect(() => splitShellWords("node 'a.js")).toThrow("command `node 'a.js`: unterminated ' quote");
    expect(() => splitShellWords('node "a.js')).toThrow(SpawnError);
  });
});

describe("parseCommand", () => {
  it("takes an array as argv as is, shell syntax included", () => {
    expect(parseCommand(["node", "a b.js", "$HOME"])).toEqual({
      file: "node",
      args: ["a b.js", "$HOME"],
      shell: false,
    });
  });
  it("splits a string without shell syntax", () => {
    expect(parseCommand("node 'my app.js' 7001")).toEqual({
      file: "node",
      args: ["my app.js", "7001"],
      shell: false,
    });
  });
  it("runs a string with shell syntax under /bin/sh -c", () => {
    expect(parseCommand("node a.js && echo done")).toEqual({
      file: "/bin/sh",
      args: ["-c", "node a.js && echo done"],
      shell: true,
    });
  });
  it("rejects an empty command", () => {
    expect(() => parseCommand([])).toThrow(/empty command/);
    expect(() => parseCommand("   ")).toThrow(/empty command/);
    expect(captureError(() => parseCommand("")).code).toBe("EINVAL");
  });
});

describe("resolveExecutable", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "steward-cmd-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("finds a bare name in PATH", () => {
    expect(resolveExecutable("sh", dir, "/nonexistent:/bin")).toBe("/bin/sh");
  });

  it("resolves relative PATH entries and names with a slash against cwd", () => {
    mkdirSync(path.join(dir, "bin"));
    writeFileSync(path.join(dir, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
    expect(resolveExecutable("tool", dir, "bin")).toBe(path.join(dir, "bin", "tool"));
    expect(resolveExecutable("./bin/tool", dir, "")).toBe(path.join(dir, "bin", "tool"));
  });

  it("reports a name missing from PATH as ENOENT", () => {
    const err = captureError(() => resolveExecutable("no-such-program-xyz", dir, "/bin:/usr/bin"));
    expect(err).toBeInstanceOf(SpawnError);
    expect({ code: err.code, message: err.message }).toEqual({
      code: "ENOENT",
      message: "command `no-such-program-xyz` not found in PATH",
    });
  });

  it("reports a missing path as ENOENT", () => {
    const err = captureError(() => resolveExecutable("./missing.sh", dir, undefined));
    expect({ code: err.code, message: err.message }).toEqual({
      code: "ENOENT",
      message: "`./missing.sh` does not exist (ENOENT)",
    });
  });

  it("reports a file without execute permission as EACCES", () => {
    writeFileSync(path.join(dir, "x.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(path.join(dir, "x.sh"), 0o644);
    const err = captureError(() => resolveExecutable("./x.sh", dir, undefined));
    expect({ code: err.code, message: err.message, path: err.path }).toEqual({
      code: "EACCES",
      message: "`./x.sh` is not executable (EACCES)",
      path: path.join(dir, "x.sh"),
    });
    const viaPath = captureError(() => resolveExecutable("x.sh", dir, dir));
    expect(viaPath.message).toBe(
      `command \`x.sh\` found at ${path.join(dir, "x.sh")} but it is not executable (EACCES)`,
    );
  });

  it("reports a directory as EACCES", () => {
    const err = captureError(() => resolveExecutable("./", dir, undefined));
    expect({ code: err.code, message: err.message }).toEqual({
      code: "EACCES",
      message: "`./` is a directory, not a program (EACCES)",
    });
  });
});

function captureError(fn: () => unknown): SpawnError {
  try {
    fn();
  } catch (err) {
    return err as SpawnError;
  }
  throw new Error("expected an error");
}
