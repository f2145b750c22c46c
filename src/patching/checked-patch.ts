/**
 * @module patching/checked-patch
 * A patch as checked outside the daemon: its validated manifest and where its files are. The
 * YAML parser and the schema run in a short-lived `steward patch check --json` (patching/
 * check-isolated); the daemon receives this shape as JSON and re-checks it here by hand — a few
 * type tests, no schema library — so it never trusts a malformed answer.
 */
import type { CommandSpec } from "../topology/types.js";
import { checkEditionPath } from "./edition-path.js";
import { InvalidPatchError } from "./errors.js";

/** What a patch id looks like: a letter or digit, then up to 63 letters, digits, `.`, `_`, `-`. */
export const PATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A validated `patch.yaml`, every list present. */
export interface PatchManifest {
  id: string;
  description: string;
  /** Patch ids the edition must already hold. @default [] */
  requires: string[];
  /** Normalised paths relative to the edition root, removed after the files are written. @default [] */
  delete: string[];
  /** Commands run in the patch edition, in order. @default [] */
  steps: CommandSpec[];
  /** Commands that must exit 0, run by `finalize`. @default [] */
  verify: CommandSpec[];
}

/** A checked patch. */
export interface CheckedPatch {
  manifest: PatchManifest;
  /** Where the patch's files are: the directory itself, or its staged copy. */
  dir: string;
  /** What was asked for: a directory or an archive. */
  source: string;
  /** The staging directory to remove once `dir` has been moved into the patch store. */
  staging?: string;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isCommand = (v: unknown): v is CommandSpec =>
  (isString(v) && v.trim() !== "") || (Array.isArray(v) && v.length > 0 && v.every(isString));

/**
 * The checked patch in `value` (parsed JSON), or an `InvalidPatchError` saying what is off.
 * @example checkedPatchFromJson({ manifest: { id: "p1", description: "d", requires: [], delete: [], steps: [], verify: [] }, dir: "/x", source: "/x" }, "/x")
 */
export function checkedPatchFromJson(value: unknown, source: string): CheckedPatch {
  const problems: string[] = [];
  const v = (value ?? {}) as Record<string, unknown>;
  const m = (v.manifest ?? {}) as Record<string, unknown>;
  const need = (ok: boolean, what: string): void => void (ok || problems.push(what));
  need(isString(v.dir) && v.dir.startsWith("/"), "`dir` is an absolute path");
  need(isString(v.source), "`source` is a string");
  need(
    v.staging === undefined || (isString(v.staging) && v.staging.startsWith("/")),
    "`staging` is absolute",
  );
  need(isString(m.id) && PATCH_ID.test(m.id), "`manifest.id` is a patch id");
  need(isString(m.description), "`manifest.description` is a string");
  for (const key of ["requires", "delete", "steps", "verify"] as const)
    need(Array.isArray(m[key]), `\`manifest.${key}\` is a list`);
  if (problems.length === 0) {
    need(
      (m.requires as unknown[]).every((r) => isString(r) && PATCH_ID.test(r)),
      "`requires` holds patch ids",
    );
    need(
      (m.delete as unknown[]).every((p) => isString(p) && "value" in checkEditionPath(p)),
      "`delete` holds edition paths",
    );
    need((m.steps as unknown[]).every(isCommand), "`steps` holds commands");
    need((m.verify as unknown[]).every(isCommand), "`verify` holds commands");
  }
  if (problems.length > 0)
    throw new InvalidPatchError(source, [
      {
        file: source,
        line: 0,
        column: 0,
        path: "",
        message: `the patch check answered with a malformed result (expected ${problems.join(", ")})`,
      },
    ]);
  const manifest = m as unknown as PatchManifest;
  return {
    manifest: {
      id: manifest.id,
      description: manifest.description,
      requires: manifest.requires,
      delete: manifest.delete,
      steps: manifest.steps,
      verify: manifest.verify,
    },
    dir: v.dir as string,
    source: v.source as string,
    ...(isString(v.staging) ? { staging: v.staging } : {}),
  };
}
