/**
 * @module patching/patch-source
 * Checking where a patch comes from — a directory, or a `.tar.gz`/`.tgz` archive — and its
 * `patch.yaml`. Runs outside the daemon (`steward patch check`, patching/check-isolated): it loads
 * the YAML parser, the schema and the tar reader. With a staging directory, the patch is copied
 * (an archive extracted, streaming, every entry checked: patching/tar) into a new directory there,
 * and the copy is what gets validated — the daemon then moves it into the patch store by rename.
 */
import { cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CheckedPatch } from "./checked-patch.js";
import { InvalidPatchError } from "./errors.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "./manifest.js";
import { extractTarGz } from "./tar.js";
import { DEFAULT_TAR_LIMITS, type TarLimits } from "./tar-safety.js";

/** The message for a patch without `patch.yaml`. */
export const NO_MANIFEST =
  "no patch.yaml at the top of the patch; a patch is a directory or .tar.gz with patch.yaml and an optional files/ tree";

const ARCHIVE = /\.(tar\.gz|tgz)$/;

export interface CheckOptions {
  /** Copy (or extract) each patch into a new directory here; without it a directory is checked in place. */
  stage?: string;
  /** Copy directories into `stage` too (what an import wants). @default true */
  stageDirectories?: boolean;
  limits?: TarLimits;
}

function invalid(source: string, message: string): never {
  throw new InvalidPatchError(source, [{ file: source, line: 0, column: 0, path: "", message }]);
}

/** A patch directory's validated manifest. */
async function manifestOf(dir: string, source: string, shownAs = source): Promise<CheckedPatch["manifest"]> {
  const file = join(dir, "patch.yaml");
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) invalid(source, NO_MANIFEST);
  if (st.size > MAX_MANIFEST_BYTES)
    invalid(
      source,
      `patch.yaml is ${st.size} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have`,
    );
  return parseManifest(await readFile(file, "utf8"), join(shownAs, "patch.yaml"));
}

/**
 * One patch, validated; with `opts.stage`, copied or extracted there first (removed again if it
 * is refused).
 * @throws InvalidPatchError, UnsafePatchArchiveError, PatchTooLargeError
 * @example await checkPatch("/tmp/fix-1.tar.gz", { stage: "/srv/shop/fs_ne/tmp" })
 * // { manifest: { id: "fix-1", … }, dir: "/srv/shop/fs_ne/tmp/import-x1/fix-1", source: "/tmp/fix-1.tar.gz", staging: "…/import-x1" }
 */
export async function checkPatch(source: string, opts: CheckOptions = {}): Promise<CheckedPatch> {
  const st = await stat(source).catch(() => undefined);
  if (!st) invalid(source, "no such file or directory");
  const archive = !st.isDirectory();
  if (archive && !ARCHIVE.test(source)) invalid(source, "a patch is a directory or a .tar.gz / .tgz archive");
  if (archive && opts.stage === undefined)
    invalid(source, "an archive needs a staging directory to be checked");
  if (opts.stage === undefined || (!archive && opts.stageDirectories === false))
    return { manifest: await manifestOf(source, source), dir: source, source };
  const staging = await mkdtemp(join(opts.stage, "import-"));
  try {
    let dir = join(staging, "patch");
    let shownAs = source;
    if (archive) {
      const x = await extractTarGz(source, dir, opts.limits ?? DEFAULT_TAR_LIMITS);
      dir = x.dir;
      if (x.wrapper !== undefined) shownAs = join(source, x.wrapper);
    } else await cp(source, dir, { recursive: true, verbatimSymlinks: true });
    return { manifest: await manifestOf(dir, source, shownAs), dir, source, staging };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Every patch of `sources`, or none: a refusal removes what the ones before it staged. */
export async function checkPatches(
  sources: readonly string[],
  opts: CheckOptions = {},
): Promise<CheckedPatch[]> {
  const done: CheckedPatch[] = [];
  try {
    for (const source of sources) done.push(await checkPatch(source, opts));
    return done;
  } catch (err) {
    for (const p of done) if (p.staging) await rm(p.staging, { recursive: true, force: true });
    throw err;
  }
}
