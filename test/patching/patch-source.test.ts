/**
 * Patches as directories and archives, checked as `steward patch check` does (outside the daemon):
 * the manifest's located errors (an alias bomb and an oversized patch.yaml included), real
 * `.tar.gz` files made by GNU tar staged and stored, refusals that leave nothing staged, and the
 * daemon's cheap re-check of the checked shape.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkedPatchFromJson } from "../../src/patching/checked-patch.js";
import { InvalidPatchError } from "../../src/patching/errors.js";
import { parseManifest } from "../../src/patching/manifest.js";
import { checkPatch, checkPatches, NO_MANIFEST } from "../../src/patching/patch-source.js";
import { storePatch } from "../../src/patching/patch-store.js";
import { writeTarGz } from "./fixtures/tar-builder.js";

const tmp = (): string => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ps-")));

const YAML = "id: p1\ndescription: a patch\n";
const MANIFEST = { id: "p1", description: "a patch", requires: [], delete: [], steps: [], verify: [] };

function makePatch(parent: string, name = "p1", yaml = YAML): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(path.join(dir, "files"), { recursive: true });
  fs.writeFileSync(path.join(dir, "patch.yaml"), yaml);
  fs.writeFileSync(path.join(dir, "files", "engine.js"), "v2\n");
  return dir;
}

describe("patch manifests", () => {
  it("reports every problem at its line and column, with suggestions", () => {
    expect(() =>
      parseManifest("id: ../bad\ndescripton: hi\nstep: [a]\ndelete: [../x]\n", "p/patch.yaml"),
    ).toThrow(/p\/patch.yaml:2:1: `descripton`: .*did you mean `description`/s);
    expect(() => parseManifest("id: a\ndescription: b\nrequires: [a]\n", "p/patch.yaml")).toThrow(/requires/);
    expect(parseManifest(`${YAML}steps: ["node build.js", [node, m.js]]\n`, "p/patch.yaml")).toEqual({
      ...MANIFEST,
      steps: ["node build.js", ["node", "m.js"]],
    });
  });

  it("an alias bomb is a located error, not a stack trace", () => {
    const bomb = [
      "id: p1",
      "description: a patch",
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
      "",
    ].join("\n");
    const err = (() => {
      try {
        parseManifest(bomb, "p/patch.yaml");
      } catch (e) {
        return e;
      }
    })() as InvalidPatchError;
    expect(err).toBeInstanceOf(InvalidPatchError);
    expect(err.issues).toEqual([
      {
        file: "p/patch.yaml",
        line: 4,
        column: 8,
        path: "",
        message:
          "YAML aliases expand too much (more than 100 expansions, as an alias bomb does): patch.yaml needs no aliases; write the values out",
      },
    ]);
    expect(err.message).not.toMatch(/ at .*\.js:\d+/);
  });

  it("refuses a patch.yaml over 1 MiB before parsing it", () => {
    expect(() => parseManifest(`${YAML}# ${"x".repeat(1024 * 1024)}\n`, "p/patch.yaml")).toThrow(
      /patch.yaml is 1048\d+ bytes, more than the 1048576 a manifest may have/,
    );
  });
});

describe("checkPatch", () => {
  it("checks a directory in place without a stage, and stages a copy with one", async () => {
    const dir = makePatch(tmp());
    expect(await checkPatch(dir)).toEqual({ manifest: MANIFEST, dir, source: dir });
    const stage = tmp();
    const staged = await checkPatch(dir, { stage });
    expect(staged.staging).toMatch(new RegExp(`^${stage}/import-`));
    expect(staged.dir).toBe(path.join(staged.staging!, "patch"));
    expect(fs.readFileSync(path.join(staged.dir, "files/engine.js"), "utf8")).toBe("v2\n");
  });

  it("extracts a real tar.gz wrapped in one directory; errors name the member in the archive", async () => {
    const parent = tmp();
    makePatch(parent, "mypatch");
    const tgz = path.join(parent, "mypatch.tar.gz");
    execFileSync("tar", ["-czf", tgz, "-C", parent, "mypatch/"]);
    const stage = tmp();
    const p = await checkPatch(tgz, { stage });
    expect(p.manifest).toEqual(MANIFEST);
    expect(p.dir).toBe(path.join(p.staging!, "patch", "mypatch"));

    fs.writeFileSync(path.join(parent, "mypatch", "patch.yaml"), "id: p1\ndescription: d\nverfy: []\n");
    execFileSync("tar", ["-czf", tgz, "-C", parent, "mypatch/"]);
    await expect(checkPatch(tgz, { stage })).rejects.toThrow(
      `${tgz}/mypatch/patch.yaml:3:1: \`verfy\`: unknown key \`verfy\`; did you mean \`verify\`?`,
    );
    expect(fs.readdirSync(stage)).toEqual([path.basename(p.staging!)]); // the refused one left nothing
  });

  it("refuses a missing path, a file that is not an archive, and a patch without patch.yaml", async () => {
    const dir = tmp();
    const stage = tmp();
    await expect(checkPatch(path.join(dir, "nope"))).rejects.toThrow(/nope: no such file or directory/);
    fs.writeFileSync(path.join(dir, "p.zip"), "x");
    await expect(checkPatch(path.join(dir, "p.zip"), { stage })).rejects.toThrow(/a directory or a .tar.gz/);
    await expect(checkPatch(dir)).rejects.toThrow(NO_MANIFEST);
    const tgz = writeTarGz(path.join(dir, "p.tgz"), [{ name: "files/a.js", data: "a" }]);
    await expect(checkPatch(tgz, { stage })).rejects.toThrow(NO_MANIFEST);
    expect(fs.readdirSync(stage)).toEqual([]);
  });

  it("checkPatches is all or nothing: a refusal removes what the patches before it staged", async () => {
    const parent = tmp();
    const good = makePatch(parent, "good");
    const bad = makePatch(parent, "bad", "id: ../x\ndescription: d\n");
    const stage = tmp();
    await expect(checkPatches([good, bad], { stage })).rejects.toThrow(/expected a patch id/);
    expect(fs.readdirSync(stage)).toEqual([]);
  });
});

describe("the patch store", () => {
  it("moves a staged patch to <store>/<id>, replacing an older copy whole", async () => {
    const parent = tmp();
    const src = makePatch(parent);
    const stage = tmp();
    const store = tmp();
    const first = await storePatch(await checkPatch(src, { stage }), store);
    expect(first).toEqual({ manifest: MANIFEST, dir: path.join(store, "p1"), source: src });
    fs.rmSync(path.join(src, "files/engine.js"));
    fs.writeFileSync(path.join(src, "files/other.js"), "o\n");
    await storePatch(await checkPatch(src, { stage }), store);
    expect(fs.readdirSync(path.join(store, "p1/files"))).toEqual(["other.js"]);
    expect(fs.readdirSync(store)).toEqual(["p1"]);
    expect(fs.readdirSync(stage)).toEqual([]);
    // The stored copy, checked in place, stays where it is.
    const again = await storePatch(await checkPatch(path.join(store, "p1")), store);
    expect(again.dir).toBe(path.join(store, "p1"));
  });
});

describe("checkedPatchFromJson (the daemon's re-check)", () => {
  const good = { manifest: MANIFEST, dir: "/x/p1", source: "/src/p1" };
  it("takes a well-formed answer, dropping anything extra", () => {
    expect(checkedPatchFromJson({ ...good, extra: 1 }, "/src/p1")).toEqual(good);
    const staged = { ...good, staging: "/x" };
    expect(checkedPatchFromJson(staged, "/src/p1")).toEqual(staged);
  });
  it.each([
    [{ ...good, dir: "relative" }, /`dir` is an absolute path/],
    [{ ...good, manifest: { ...MANIFEST, id: "../x" } }, /`manifest.id` is a patch id/],
    [{ ...good, manifest: { ...MANIFEST, steps: "rm -rf /" } }, /`manifest.steps` is a list/],
    [{ ...good, manifest: { ...MANIFEST, steps: [""] } }, /`steps` holds commands/],
    [{ ...good, manifest: { ...MANIFEST, delete: ["../etc"] } }, /`delete` holds edition paths/],
    [null, /malformed result/],
  ])("refuses %j", (value, message) => {
    expect(() => checkedPatchFromJson(value, "/src/p1")).toThrow(message);
  });
});
