/**
 * @module patching/patch-source
 * TEMPORARY (directories only) until the archive reader lands.
 */
import { cp, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidPatchError } from "./errors.js";
import { parseManifest, type PatchManifest } from "./manifest.js";

export interface LoadedPatch {
  manifest: PatchManifest;
  dir: string;
  source: string;
}

export async function loadPatch(source: string): Promise<LoadedPatch> {
  const st = await stat(source).catch(() => undefined);
  if (!st?.isDirectory())
    throw new InvalidPatchError(source, [
      { file: source, line: 0, column: 0, path: "", message: "not a directory" },
    ]);
  const file = join(source, "patch.yaml");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined)
    throw new InvalidPatchError(source, [
      {
        file: source,
        line: 0,
        column: 0,
        path: "",
        message:
          "no patch.yaml at the top of the patch; a patch is a directory or .tar.gz with patch.yaml and an optional files/ tree",
      },
    ]);
  return { manifest: parseManifest(text, file), dir: source, source };
}

export async function importPatch(source: string, patchStore: string): Promise<LoadedPatch> {
  const loaded = await loadPatch(source);
  const dest = join(patchStore, loaded.manifest.id);
  if (dest === source) return loaded;
  const tmp = `${dest}.importing-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await cp(source, tmp, { recursive: true });
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  return { ...loaded, dir: dest };
}
