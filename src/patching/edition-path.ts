/**
 * @module patching/edition-path
 * Paths inside an edition, as a patch names them (`delete` entries): relative, normalised, never
 * leaving the edition root. One check shared by the manifest (which refuses a bad path with its
 * location) and by `applyFiles` (which refuses to touch anything outside the edition).
 */
import { posix } from "node:path";

/**
 * Checks a path relative to the edition root; a single trailing `/` is allowed (and dropped).
 * @returns the path without its trailing `/`, or the problem with it.
 * @example checkEditionPath("old/unused.js") // { value: "old/unused.js" }
 * @example checkEditionPath("../x") // { problem: "`../x` has a `..` segment; …" }
 */
export function checkEditionPath(p: string): { value: string } | { problem: string } {
  if (p.trim() === "")
    return { problem: "expected a path relative to the edition root, got an empty string" };
  if (p.includes("\0")) return { problem: `\`${JSON.stringify(p)}\` holds a NUL byte` };
  if (p.startsWith("/")) {
    const rel = p.replace(/^\/+/, "");
    return {
      problem: `\`${p}\` is absolute; write it relative to the edition root${rel ? `, like \`${rel}\`` : ""}`,
    };
  }
  const trimmed = p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
  if (trimmed.split("/").includes("..")) {
    return { problem: `\`${p}\` has a \`..\` segment; a path must stay inside the edition` };
  }
  const normal = posix.normalize(trimmed).replace(/\/$/, "");
  if (normal === ".")
    return { problem: `\`${p}\` is the edition root itself; name what to remove inside it` };
  if (normal !== trimmed) return { problem: `\`${p}\` is not normalised; write \`${normal}\`` };
  return { value: trimmed };
}

/** The problem with `p` as an edition path, or `undefined` when it is fine. */
export function editionPathProblem(p: string): string | undefined {
  const r = checkEditionPath(p);
  return "problem" in r ? r.problem : undefined;
}
