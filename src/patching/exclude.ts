/**
 * @module patching/exclude
 * `patching.exclude`: patterns with the meaning of `.gitignore` lines (matched by `ignore`, the
 * ecosystem's gitignore matcher), relative to the edition root. `*.log` matches a name anywhere;
 * `tmp/` a directory anywhere, with everything under it; `/build` and `conf/*.local` are anchored
 * at the root; `**` crosses directories (`a/**\/b`, `**\/cache`, `logs/**`); `[0-9]`, `?` and `\`
 * escapes as in git; `!keep.log` re-includes what an earlier pattern excluded (not inside an
 * excluded directory: as in git, it is never looked into). Case-sensitive, as git on Linux.
 */
import ignore from "ignore";

/**
 * @example compileExclude(["*.log", "!keep.log", "tmp/"])("a/b.log", false) // true
 * @example compileExclude(["*.log", "!keep.log"])("keep.log", false) // false
 * @throws Error for an empty pattern (it excludes nothing: a mistake)
 */
export function compileExclude(patterns: readonly string[]): (rel: string, isDir: boolean) => boolean {
  patterns.forEach((p, i) => {
    if (p.trim() === "" || /^\/+$/.test(p))
      throw new Error(`patching.exclude[${i}]: an empty pattern excludes nothing; remove it`);
  });
  if (patterns.length === 0) return () => false;
  const matcher = ignore({ ignorecase: false }).add([...patterns]);
  return (rel, isDir) => {
    const path = rel.replace(/^\/+|\/+$/g, "");
    if (path === "") return false; // the edition root itself
    // A trailing `/` tells the matcher it is a directory (for `tmp/`-style patterns).
    return matcher.ignores(isDir ? `${path}/` : path);
  };
}
