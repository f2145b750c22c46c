/**
 * @module process/command
 * Turns a `CommandSpec` into the program and argv that `child_process.spawn` runs, and finds the
 * program the way the OS would, so a missing or non-executable program is reported before the
 * spawn ("command `foo` not found in PATH") instead of as a mysterious exit later.
 *
 * - an array is argv as written;
 * - a string without shell syntax is split into argv like `sh` would (single and double quotes,
 *   backslash), and runs without a shell;
 * - a string with shell syntax (`; & | < > ( ) $ \` * ? [ ] { } ~ # !`, a newline, a leading
 *   `NAME=value`) runs as `/bin/sh -c <string>`.
 */
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import type { CommandSpec } from "../topology/types.js";
import { SpawnError } from "./errors.js";

/** What to spawn: the program as written (not yet resolved against PATH) and its arguments. */
export interface ParsedCommand {
  /** `node`, `./x.sh`, `/usr/bin/env`, or `/bin/sh` when `shell` is true. */
  file: string;
  args: string[];
  /** True when the string had shell syntax and runs as `/bin/sh -c <string>`. */
  shell: boolean;
}

/** The shell used for commands with shell syntax. */
export const SHELL = "/bin/sh";

/** PATH used when the environment has none (the usual `execvp` fallback). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Unquoted characters that give a string shell syntax. Conservative: when in doubt, the shell decides. */
const SHELL_CHARS = new Set([
  ";",
  "&",
  "|",
  "<",
  ">",
  "(",
  ")",
  "$",
  "`",
  "*",
  "?",
  "[",
  "]",
  "{",
  "}",
  "~",
  "#",
  "!",
  "\n",
  "\r",
]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function malformed(s: string, problem: string): SpawnError {
  return new SpawnError("EINVAL", `command \`${s}\`: ${problem}`);
}

/**
 * Splits a command line into argv like `sh` would, or returns `undefined` when the string has
 * shell syntax and must run under `/bin/sh -c`. Throws `SpawnError` (EINVAL) on an unterminated
 * quote.
 *
 * @example splitShellWords(`printf '%s\n' "a b" c\\ d`) // ["printf", "%s\\n", "a b", "c d"]
 * @example splitShellWords("make && make test") // undefined
 */
export function splitShellWords(s: string): string[] | undefined {
  const words: string[] = [];
  let word = "";
  let wordStart = -1; // index where the current word began; -1 between words
  let i = 0;
  const begin = (): void => {
    if (wordStart < 0) wordStart = i;
  };
  while (i < s.length) {
    const c = s[i] as string;
    if (c === " " || c === "\t") {
      if (wordStart >= 0) words.push(word);
      word = "";
      wordStart = -1;
      i++;
    } else if (c === "'") {
      begin();
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw malformed(s, "unterminated ' quote");
      word += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      begin();
      i++;
      for (;;) {
        const d = s[i];
        if (d === undefined) throw malformed(s, 'unterminated " quote');
        if (d === '"') break;
        if (d === "$" || d === "`") return undefined;
        if (d === "\\") {
          const n = s[i + 1];
          if (n === "\n") return undefined;
          if (n === '"' || n === "\\") {
            word += n;
            i += 2;
            continue;
          }
        }
        word += d;
        i++;
      }
      i++;
    } else if (c === "\\") {
      begin();
      const n = s[i + 1];
      if (n === undefined || n === "\n") return undefined;
      word += n;
      i += 2;
    } else if (SHELL_CHARS.has(c)) {
      return undefined;
    } else if (c === "=" && words.length === 0 && NAME.test(s.slice(wordStart, i))) {
      return undefined; // `NAME=value cmd`: an environment assignment
    } else {
      begin();
      word += c;
      i++;
    }
  }
  if (wordStart >= 0) words.push(word);
  return words;
}

/** True when a command string needs `/bin/sh -c`. */
export function hasShellSyntax(s: string): boolean {
  return splitShellWords(s) === undefined;
}

/**
 * Turns a `CommandSpec` (already rendered: no `${...}` left) into program and argv.
 * Throws `SpawnError` (EINVAL) for an empty command or an unterminated quote.
 *
 * @example parseCommand("node server.js --port 7001") // { file: "node", args: ["server.js", "--port", "7001"], shell: false }
 * @example parseCommand("node a.js > out.txt") // { file: "/bin/sh", args: ["-c", "node a.js > out.txt"], shell: true }
 */
export function parseCommand(spec: CommandSpec): ParsedCommand {
  if (Array.isArray(spec)) {
    const [file, ...args] = spec;
    if (!file) throw malformed(JSON.stringify(spec), "empty command");
    return { file, args, shell: false };
  }
  const words = splitShellWords(spec);
  if (words === undefined) return { file: SHELL, args: ["-c", spec], shell: true };
  const [file, ...args] = words;
  if (!file) throw malformed(spec, "empty command");
  return { file, args, shell: false };
}

/** Why `p` cannot be executed, or `undefined` when it can. */
function execProblem(p: string): "ENOENT" | "EISDIR" | "EACCES" | undefined {
  try {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return "ENOENT";
    if (st.isDirectory()) return "EISDIR";
    if (!st.isFile()) return "EACCES";
    accessSync(p, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "ENOENT" : "EACCES";
  }
}

/**
 * Finds the program like `execvp` would and returns its absolute path. A name with a `/` is
 * resolved against `cwd`; a bare name is searched in `PATH` (relative entries against `cwd`).
 * Throws `SpawnError` whose message is the reason:
 * - ENOENT: "command `foo` not found in PATH", "`./x.sh` does not exist (ENOENT)";
 * - EACCES: "`./x.sh` is not executable (EACCES)", "`./dir` is a directory, not a program (EACCES)".
 *
 * @param PATH the replica's PATH. @default DEFAULT_PATH
 * @example resolveExecutable("node", "/srv/shop", process.env.PATH) // "/usr/bin/node"
 */
export function resolveExecutable(file: string, cwd: string, PATH: string | undefined): string {
  if (file.includes("/")) {
    const abs = path.resolve(cwd, file);
    const problem = execProblem(abs);
    if (problem === undefined) return abs;
    const opts = { file, path: abs };
    if (problem === "ENOENT") throw new SpawnError("ENOENT", `\`${file}\` does not exist (ENOENT)`, opts);
    if (problem === "EISDIR")
      throw new SpawnError("EACCES", `\`${file}\` is a directory, not a program (EACCES)`, opts);
    throw new SpawnError("EACCES", `\`${file}\` is not executable (EACCES)`, opts);
  }
  let denied: string | undefined;
  for (const dir of (PATH ?? DEFAULT_PATH).split(":")) {
    const candidate = path.resolve(cwd, dir || ".", file);
    const problem = execProblem(candidate);
    if (problem === undefined) return candidate;
    if (problem === "EACCES" && denied === undefined) denied = candidate;
  }
  if (denied !== undefined) {
    throw new SpawnError(
      "EACCES",
      `command \`${file}\` found at ${denied} but it is not executable (EACCES)`,
      {
        file,
        path: denied,
      },
    );
  }
  throw new SpawnError("ENOENT", `command \`${file}\` not found in PATH`, { file });
}
