/**
 * @module patching/patch-store
 * The patch store (`fs_ne/patches/<id>/`): every patch ever applied, as imported. A checked patch
 * arrives staged under `fs_ne/tmp` (patching/check-isolated) and is renamed into place, replacing
 * a stored copy of the same id whole: never a mix of the two.
 */
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CheckedPatch } from "./checked-patch.js";

/**
 * Moves a staged patch into `<patchStore>/<id>`; a patch that is not staged (checked in place,
 * e.g. the stored copy itself) is left where it is.
 * @example await storePatch(checked, "/srv/shop/fs_ne/patches") // { …checked, dir: "/srv/shop/fs_ne/patches/fix-1" }
 */
export async function storePatch(patch: CheckedPatch, patchStore: string): Promise<CheckedPatch> {
  if (patch.staging === undefined) return patch;
  const dest = join(patchStore, patch.manifest.id);
  const old = `${dest}.replaced-${process.pid}`;
  await rm(old, { recursive: true, force: true });
  // Out of the way first, so the staged copy can be renamed over the name in one step.
  await rename(dest, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await rename(patch.dir, dest);
  await rm(old, { recursive: true, force: true });
  await rm(patch.staging, { recursive: true, force: true });
  return { manifest: patch.manifest, dir: dest, source: patch.source };
}
