/**
 * @module patching/layout
 * The editions on disk under `patching.root` (design §6): `fs1/`, `fs2/`, `fs_ne/` (patch store,
 * session logs, scratch) and the symlinks `run` and `patch`, each pointing at `fs1` or `fs2`.
 * A link is only switched by creating a new one under a temporary name and rename(2)-ing it over
 * the old one, then fsync-ing the root: a reader of `root/run` sees the old edition or the new
 * one, never nothing. `swap` renames `run` first; a crash between the two renames leaves both
 * links at the same edition, which `read` repairs by pointing `patch` at the other one.
 */
import {
  existsSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  symlinkSync,
  unlinkSync,
} from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { cloneEdition } from "./clone.js";
import { compileExclude } from "./exclude.js";
import { EditionLayoutError } from "./errors.js";
import { fsyncDir } from "./fsync.js";

export type EditionName = "fs1" | "fs2";
const EDITIONS: readonly EditionName[] = ["fs1", "fs2"];

export class EditionLayout {
  readonly paths: {
    root: string;
    fs1: string;
    fs2: string;
    ne: string;
    patches: string;
    logs: string;
    tmp: string;
    runLink: string;
    patchLink: string;
  };

  constructor(root: string) {
    const r = resolve(root);
    const ne = join(r, "fs_ne");
    this.paths = {
      root: r,
      fs1: join(r, "fs1"),
      fs2: join(r, "fs2"),
      ne,
      patches: join(ne, "patches"),
      logs: join(ne, "logs"),
      tmp: join(ne, "tmp"),
      runLink: join(r, "run"),
      patchLink: join(r, "patch"),
    };
  }

  /**
   * Which edition each link names; repairs a swap a crash cut in half (with `repair: false`, as
   * `patch validate` reads it, such a swap is reported instead and nothing is written).
   * @throws EditionLayoutError naming what is missing or wrong, and what to do
   */
  read(opts: { repair?: boolean } = {}): { run: EditionName; patch: EditionName } {
    const { root } = this.paths;
    if (!existsSync(root))
      this.#fail("does not exist; create the editions with `steward patch init --from DIR`");
    for (const e of EDITIONS)
      if (!existsSync(this.dir(e)))
        this.#fail(`no \`${e}/\`; create the editions with \`steward patch init --from DIR\``);
    const run = this.#link("run");
    let patch = this.#link("patch");
    if (run === patch) {
      patch = run === "fs1" ? "fs2" : "fs1";
      if (opts.repair === false)
        this.#fail(
          `\`run\` and \`patch\` both point at ${run}: a swap was cut in half; the next patch phase (or \`steward patch status\`) points \`patch\` at ${patch}`,
        );
      this.#point("patch", patch);
    }
    return { run, patch };
  }

  /** Absolute directory of an edition. */
  dir(edition: EditionName | string): string {
    return join(this.paths.root, edition);
  }

  /** Real directory of the run edition (what a replica starting now runs from). */
  runDir(): string {
    return realpathSync(this.dir(this.read().run));
  }

  patchDir(): string {
    return realpathSync(this.dir(this.read().patch));
  }

  /** Make the patch edition the run edition and the other way round. */
  async swap(): Promise<{ run: EditionName; patch: EditionName }> {
    const { run, patch } = this.read();
    this.#point("run", patch);
    this.#point("patch", run);
    await fsyncDir(this.paths.root);
    return { run: patch, patch: run };
  }

  /** `fs_ne/logs/<session>/<phase>/`, created on demand. */
  logDir(session: number, phase: string): string {
    return join(this.paths.logs, String(session), phase);
  }

  /** Remove session log directories beyond the newest `keep`; returns the sessions removed. */
  async pruneLogs(keep: number): Promise<number[]> {
    const sessions = (await readdir(this.paths.logs).catch(() => []))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => b - a);
    const removed = sessions.slice(keep);
    for (const s of removed) await rm(join(this.paths.logs, String(s)), { recursive: true, force: true });
    return removed;
  }

  /**
   * Lay the editions out under `root` from the application directory `from` (minus `exclude`):
   * both editions get a copy, `run` → fs1, `patch` → fs2.
   * @throws EditionLayoutError when root holds anything already, or `from` is missing or holds root
   */
  static async init(
    root: string,
    from: string,
    opts: { exclude?: readonly string[] } = {},
  ): Promise<EditionLayout> {
    const layout = new EditionLayout(root);
    const r = layout.paths.root;
    const src = resolve(from);
    if (!existsSync(src) || !lstatSync(src).isDirectory())
      throw new EditionLayoutError(r, `--from ${src} is not a directory`);
    if (existsSync(r) && readdirSync(r).length > 0)
      throw new EditionLayoutError(
        r,
        existsSync(layout.paths.runLink)
          ? "already holds editions (`steward patch status` shows them)"
          : "is not empty; choose an empty or new directory",
      );
    // The root inside the application directory: copy everything but the root itself.
    const inside = relative(src, r);
    const rootInside = !inside.startsWith("..") && inside !== "" && !inside.startsWith(sep);
    const skip = compileExclude([
      ...(opts.exclude ?? []),
      ...(rootInside ? [`/${inside.split(sep).join("/")}/`] : []),
    ]);
    await mkdir(layout.paths.tmp, { recursive: true });
    await mkdir(layout.paths.patches, { recursive: true });
    await mkdir(layout.paths.logs, { recursive: true });
    await cloneEdition(src, layout.paths.fs1, { tmpDir: layout.paths.tmp, skip });
    await cloneEdition(layout.paths.fs1, layout.paths.fs2, { tmpDir: layout.paths.tmp });
    layout.#point("run", "fs1");
    layout.#point("patch", "fs2");
    await fsyncDir(r);
    return layout;
  }

  #link(name: "run" | "patch"): EditionName {
    const path = join(this.paths.root, name);
    let target: string;
    try {
      target = readlinkSync(path);
    } catch {
      return this.#fail(`no \`${name}\` link; create the editions with \`steward patch init --from DIR\``);
    }
    if (target !== "fs1" && target !== "fs2")
      this.#fail(`\`${name}\` points at \`${target}\`, expected fs1 or fs2`);
    return target as EditionName;
  }

  /** Point link `name` at `edition`: a new link under a temporary name, renamed over the old one. */
  #point(name: "run" | "patch", edition: EditionName): void {
    const tmp = join(this.paths.root, `.${name}.${process.pid}.tmp`);
    try {
      unlinkSync(tmp);
    } catch {
      // none left over
    }
    symlinkSync(edition, tmp);
    renameSync(tmp, join(this.paths.root, name));
  }

  #fail(reason: string): never {
    throw new EditionLayoutError(this.paths.root, reason);
  }
}
