/**
 * @module topology/exclude-pattern
 * `patching.exclude` patterns checked at validate: each is a `.gitignore` line relative to the
 * edition root (matched by `ignore` in patching/exclude). A line that git — and `ignore` — would
 * drop or that could never match (empty, a comment, a lone `!`, a trailing lone `\`, an unclosed
 * `[`, an unknown `[:class:]`, a line break or NUL, a `..` segment, the patching root written as an
 * absolute path) excludes nothing in silence: here it is a located error saying what to write.
 * A leading `/` stays what it is in git: an anchor at the edition root (`/build`).
 */
import { isAbsolute } from "node:path";
import type { PathIssue } from "./locate.js";
import { describeValue, leaf } from "./values.js";

const POSIX_CLASSES = new Set([
  "alnum",
  "alpha",
  "blank",
  "cntrl",
  "digit",
  "graph",
  "lower",
  "print",
  "punct",
  "space",
  "upper",
  "xdigit",
]);

/** Why the bracket expression opened at `p[start]` matches nothing, or its end (index of `]`). */
function scanBracket(p: string, start: number): { end: number } | { problem: string } {
  let i = start + 1;
  if (p[i] === "!" || p[i] === "^") i++;
  // As in git's wildmatch, the first member is taken whatever it is: `[]]` is a class of `]`.
  for (let first = true; i < p.length; i++, first = false) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "[" && p[i + 1] === ":") {
      const close = p.indexOf("]", i + 2);
      if (close === -1) break;
      if (p[close - 1] === ":" && close > i + 2) {
        const name = p.slice(i + 2, close - 1);
        if (!POSIX_CLASSES.has(name))
          return {
            problem: `\`[:${name}:]\` is not a character class (use one of ${[...POSIX_CLASSES].map((n) => `\`[:${n}:]\``).join(", ")}); as written the pattern matches nothing`,
          };
        i = close;
      }
    } else if (c === "]" && !first) return { end: i };
  }
  return {
    problem: `the \`[\` at character ${start + 1} opens a character class that is never closed, so the pattern matches nothing: close it with \`]\`, or write \`\\[\` for a literal \`[\``,
  };
}

/** The problem with one pattern, or undefined when git would use it as written. */
export function excludePatternProblem(p: string): string | undefined {
  if (p.includes("\0")) return "a pattern cannot contain a NUL byte; remove it";
  if (/[\r\n]/.test(p)) return "a pattern is one `.gitignore` line: split it into one pattern per line";
  const body = p.startsWith("!") ? p.slice(1) : p;
  if (p.trim() === "" || /^\/+$/.test(p.trim())) return "an empty pattern excludes nothing; remove it";
  if (body.trim() === "") return "a lone `!` re-includes nothing; remove it, or write `!name`";
  if (p.startsWith("#"))
    return "a pattern starting with `#` is a comment in `.gitignore` and excludes nothing: write `\\#name` for a name starting with `#`, or remove it";
  if (/(^|[^\\])(\\\\)*\\$/.test(body))
    return "a pattern ending with a lone `\\` is dropped by git: remove the `\\`, or write `\\\\` for a name ending with a backslash";
  if (body.split("/").includes(".."))
    return "paths are relative to the edition root and never contain `..`: this pattern matches nothing; write the path from the edition root";
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\") i++;
    else if (body[i] === "[") {
      const r = scanBracket(body, i);
      if ("problem" in r) return r.problem;
      i = r.end;
    }
  }
  return undefined;
}

/** One `patching.exclude` entry: a string git would use as a `.gitignore` line. */
export const excludePattern = leaf<string>((v) => {
  if (typeof v !== "string")
    return { problem: `expected a pattern like \`*.log\` or \`tmp/\`, got ${describeValue(v)}` };
  const problem = excludePatternProblem(v);
  return problem === undefined ? { value: v } : { problem: `\`${v.replace(/\0/g, "\\0")}\`: ${problem}` };
});

/**
 * Patterns that write the patching root as an absolute path (`/srv/shop/logs`): exclude patterns
 * are relative to the edition root, where a leading `/` only anchors (raw, interpolated data).
 */
export function excludeRootChecks(patching: unknown): PathIssue[] {
  if (patching === null || typeof patching !== "object") return [];
  const { root, exclude } = patching as Record<string, unknown>;
  if (typeof root !== "string" || !isAbsolute(root) || !Array.isArray(exclude)) return [];
  const base = root.replace(/\/+$/, "");
  if (base === "") return [];
  const issues: PathIssue[] = [];
  exclude.forEach((p, i) => {
    if (typeof p !== "string") return;
    const body = p.startsWith("!") ? p.slice(1) : p;
    if (body !== base && !body.startsWith(`${base}/`)) return;
    const rel = body.slice(base.length).replace(/^\/+/, "");
    issues.push({
      path: ["patching", "exclude", i],
      message: `\`${p}\` is an absolute path inside \`patching.root\`, but patterns are relative to the edition root (a leading \`/\` only anchors there): write \`${p.startsWith("!") ? "!" : ""}/${rel || "<path>"}\``,
    });
  });
  return issues;
}
