/**
 * @module patching/tar
 * Extracting a patch archive (`.tar.gz` / `.tgz`) as a stream: node:zlib gunzips, tar-stream splits
 * the entries (ustar, GNU and pax; long names), and each header is checked (patching/tar-safety) as
 * it arrives, the limits as the bytes flow — so a hostile archive is refused after reading only as
 * much as it takes to see it, with memory bounded by a few chunks whatever it unpacks to.
 * Everything lands in a new staging directory that the caller moves into place only once the whole
 * archive has been read and checked; on any failure the staging directory is removed.
 */
import { createReadStream } from "node:fs";
import { chmod, mkdir, open, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { extract as tarExtract, type Entry, type Extract } from "tar-stream";
import { StewardError } from "../errors.js";
import { InvalidPatchError } from "./errors.js";
import {
  ArchiveTally,
  DEFAULT_TAR_LIMITS,
  checkEntry,
  wrapperOf,
  type TarEntry,
  type TarLimits,
} from "./tar-safety.js";

/** What an extraction produced. */
export interface Extracted {
  /** Where the patch's files are: `into`, or `into/<wrapper>` when one directory wrapped everything. */
  dir: string;
  /** The wrapping directory that was stripped, if any. */
  wrapper: string | undefined;
  entries: TarEntry[];
  /** Bytes of file data written. */
  bytes: number;
}

/** Decompressed bytes handed to the tar reader at a time. */
const CHUNK = 64 * 1024;

/**
 * Extracts `file` into `into` (created here; it must not exist), every entry checked first.
 * @throws UnsafePatchArchiveError (an entry escaping the target, a link, a device),
 *   PatchTooLargeError (past a limit), InvalidPatchError (not gzip, not tar, truncated)
 * @example await extractTarGz("fix-1.tar.gz", "/srv/shop/fs_ne/tmp/import-1") // { dir: ".../import-1/fix-1", wrapper: "fix-1", … }
 */
export async function extractTarGz(
  file: string,
  into: string,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): Promise<Extracted> {
  const tally = new ArchiveTally(file, (await stat(file)).size, limits);
  await mkdir(into);
  const raw = createReadStream(file);
  const gunzip = createGunzip({ chunkSize: CHUNK });
  const reader = tarExtract({ allowUnknownFormat: true });
  raw.on("error", (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  const feeding = feed(gunzip, reader, tally, file);
  // Why the reader failed: an entry's data stream only says it "was destroyed".
  let failure: unknown;
  reader.on("error", (err: unknown) => (failure ??= err));
  const closed = new Promise((resolve) => reader.once("close", resolve));
  const entries: TarEntry[] = [];
  try {
    for await (const entry of reader as AsyncIterable<Entry>) {
      const checked = checkEntry(file, entry.header);
      tally.add(checked);
      entries.push(checked);
      await write(into, checked, entry);
    }
    await feeding;
  } catch (err) {
    raw.destroy();
    gunzip.destroy();
    reader.destroy();
    await closed;
    await rm(into, { recursive: true, force: true });
    const cause = err instanceof StewardError ? err : (failure ?? err);
    if (cause instanceof StewardError) throw cause;
    throw damaged(
      file,
      /unexpected end of data/i.test(message(cause))
        ? "the archive is truncated (it ends inside an entry)"
        : `not a tar archive, or a damaged one: ${message(cause)}`,
    );
  }
  const wrapper = wrapperOf(entries);
  return {
    dir: wrapper === undefined ? into : join(into, wrapper),
    wrapper,
    entries: wrapper === undefined ? entries : strip(entries, wrapper),
    bytes: tally.bytes,
  };
}

/** Decompressed chunks into the tar reader, with backpressure; a failure destroys the reader with its reason. */
async function feed(
  gunzip: AsyncIterable<Buffer>,
  reader: Extract,
  tally: ArchiveTally,
  file: string,
): Promise<void> {
  try {
    for await (const chunk of gunzip) {
      tally.unpacked(chunk.length);
      if (!reader.write(chunk)) await drained(reader);
      if (reader.destroyed) return;
    }
    reader.end();
  } catch (err) {
    reader.destroy(
      err instanceof StewardError
        ? err
        : damaged(
            file,
            /unexpected end of file/i.test(message(err))
              ? "the archive is truncated (the gzip stream ends early)"
              : `not a gzip-compressed tar archive: ${message(err)}`,
          ),
    );
  }
}

function drained(reader: Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      reader.off("drain", done);
      reader.off("close", done);
      resolve();
    };
    reader.on("drain", done);
    reader.on("close", done);
  });
}

/** One checked entry under `into`: a directory, or a file streamed to disk with its mode. */
async function write(into: string, e: TarEntry, data: Entry): Promise<void> {
  if (e.path === "." || e.type === "directory") {
    if (e.path !== ".") await mkdir(join(into, e.path), { recursive: true });
    data.resume();
    return;
  }
  const to = join(into, e.path);
  await mkdir(dirname(to), { recursive: true });
  // Staging holds nothing but what this archive made, and never a link: `w` cannot be redirected.
  const fh = await open(to, "w", 0o600);
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) await fh.write(chunk);
  } finally {
    await fh.close();
  }
  await chmod(to, e.mode);
}

function strip(entries: TarEntry[], wrapper: string): TarEntry[] {
  return entries
    .filter((e) => e.path !== wrapper && e.path !== ".")
    .map((e) => ({ ...e, path: e.path.slice(wrapper.length + 1) }));
}

function damaged(file: string, why: string): InvalidPatchError {
  return new InvalidPatchError(file, [{ file, line: 0, column: 0, path: "", message: why }]);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
