/**
 * @module patching/patch-source
 * Where a patch comes from: a directory, or a `.tar.gz`/`.tgz` archive (read and checked whole
 * before anything is written — patching/tar). `importPatch` keeps a copy in the patch store
 * (`fs_ne/patches/<id>/`), written beside it and renamed into place; importing the same id again
 * replaces the stored copy.
 */
import { cp, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InvalidPatchError } from "./errors.js";
import { parseManifest, type PatchManifest } from "./manifest.js";
import { readTarGz, writeEntries } from "./tar.js";

export interface LoadedPatch {
  manifest: PatchManifest;
  /** Where the patch's files are: the directory itself, the stored copy, or an extracted archive. */
  dir: string;
  source: string;
}

const ARCHIVE = /\.(tar\.gz|tgz)$/;

function invalid(source: string, message: string): never {
  throw new InvalidPatchError(source, [{ file: source, line: 0, column: 0, path: "", message }]);
}

/** Read a patch directory's manifest. */
async function fromDirectory(source: string): Promise<LoadedPatch> {
  const file = join(source, "patch.yaml");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined)
    invalid(
      source,
      "no patch.yaml at the top of the patch; a patch is a directory or .tar.gz with patch.yaml and an optional files/ tree",
    );
  return { manifest: parseManifest(text, file), dir: source, source };
}

/**
 * A patch directory or archive, validated; an archive is extracted into `scratch` (a new
 * directory is made there).
 * @throws InvalidPatchError, UnsafePatchArchiveError
 */
export async function loadPatch(source: string, scratch?: string): Promise<LoadedPatch> {
  const st = await stat(source).catch(() => undefined);
  if (!st) invalid(source, "no such file or directory");
  if (st.isDirectory()) return fromDirectory(source);
  if (!ARCHIVE.test(source)) invalid(source, "a patch is a directory or a .tar.gz / .tgz archive");
  const entries = await readTarGz(source);
  const into = await mkdtemp(join(scratch ?? dirname(source), `.${basename(source)}-`));
  try {
    await writeEntries(into, entries);
    return { ...(await fromDirectory(into)), source };
  } catch (err) {
    await rm(into, { recursive: true, force: true });
    throw err;
  }
}

/** Validate `source` and keep a copy in the patch store as `<patchStore>/<id>/`. */
export async function importPatch(source: string, patchStore: string): Promise<LoadedPatch> {
  const loaded = await loadPatch(source, patchStore);
  const dest = join(patchStore, loaded.manifest.id);
  if (loaded.dir === dest) return loaded;
  const tmp = `${dest}.importing-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  if (loaded.dir !== source) await rename(loaded.dir, tmp);
  else await cp(source, tmp, { recursive: true });
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  return { ...loaded, dir: dest };
}
