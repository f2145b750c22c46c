/**
 * @module patching/exclude
 * `patching.exclude` patterns, gitignore-like: `*.log` matches a name anywhere; `tmp/` a directory
 * of that name anywhere (and all under it); `/build` is anchored at the edition root; `dir/*.tmp`
 * is a path from the root; `**` crosses directories.
 */
const escape = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, "\\$&");

function toRegExp(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i += 1;
      if (glob[i + 1] === "/") i += 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += escape(c);
  }
  return out;
}

/**
 * @example compileExclude(["*.log", "tmp/"])("a/b.log", false) // true
 * @throws Error for an empty pattern
 */
export function compileExclude(patterns: readonly string[]): (rel: string, isDir: boolean) => boolean {
  const rules = patterns.map((p) => {
    if (p.trim() === "" || p === "/")
      throw new Error(`patching.exclude: an empty pattern excludes nothing; remove it`);
    const dirOnly = p.endsWith("/");
    const body = dirOnly ? p.slice(0, -1) : p;
    const anchored = body.startsWith("/") || body.includes("/");
    const re = new RegExp(`^${anchored ? "" : "(?:.*/)?"}${toRegExp(body.replace(/^\//, ""))}$`);
    return { re, dirOnly };
  });
  return (rel, isDir) => rules.some((r) => (!r.dirOnly || isDir) && r.re.test(rel));
}
