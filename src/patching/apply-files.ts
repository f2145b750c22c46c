/**
 * @module patching/apply-files
 * Writing a patch's `files/` tree over an edition, then removing its `delete` paths. Each file is
 * written under a temporary name in its directory and rename(2)d into place (keeping the patch's
 * mode), so a reader never sees half a file; a path already absent is fine. Idempotent: a re-run
 * after a crash writes the same result.
 */
import { chmod, copyFile, lstat, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { walk } from "./copy-tree.js";
import { checkEditionPath } from "./edition-path.js";
import type { PatchManifest } from "./checked-patch.js";

/** @example await applyFiles(storedPatchDir, "/srv/shop/fs2", manifest) // { written: 3, deleted: 1 } */
export async function applyFiles(
  patchDir: string,
  editionDir: string,
  manifest: Pick<PatchManifest, "delete">,
): Promise<{ written: number; deleted: number }> {
  const files = join(patchDir, "files");
  let written = 0;
  const present = await lstat(files).then(
    (s) => s.isDirectory(),
    () => false,
  );
  for (const e of present ? await walk(files) : []) {
    const to = join(editionDir, e.rel);
    if (e.kind === "dir") {
      await mkdir(to, { recursive: true });
      continue;
    }
    if (e.kind !== "file") continue; // archives never hold links (patching/tar-safety); a directory patch's are ignored
    await mkdir(dirname(to), { recursive: true });
    const tmp = `${to}.steward-tmp`;
    await copyFile(join(files, e.rel), tmp);
    await chmod(tmp, e.mode);
    await rename(tmp, to);
    written += 1;
  }
  let deleted = 0;
  for (const p of manifest.delete) {
    const checked = checkEditionPath(p);
    if ("problem" in checked) throw new Error(`delete: ${checked.problem}`);
    const target = join(editionDir, checked.value);
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      deleted += 1;
    await rm(target, { recursive: true, force: true });
  }
  return { written, deleted };
}
