/**
 * Patches as directories and archives: the manifest's located errors, real `.tar.gz` files made
 * by GNU tar (long names, a wrapping directory), and hand-built archives that try to escape — each
 * refused whole, with nothing written.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/patching/manifest.js";
import { importPatch, loadPatch } from "../../src/patching/patch-source.js";
import { readTarGz } from "../../src/patching/tar.js";

const tmp = (): string => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ps-")));

/** A ustar header block for `name` (type flag `type`), with a valid checksum. */
function header(name: string, size: number, type = "0", linkname = ""): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, "utf8");
  b.write("0000644\0", 100);
  b.write("0000000\0", 108);
  b.write("0000000\0", 116);
  b.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  b.write("00000000000\0", 136);
  b.write("        ", 148);
  b.write(type, 156);
  b.write(linkname, 157, 100, "utf8");
  b.write("ustar\0", 257);
  b.write("00", 263);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return b;
}

/** A gzip'd tar of `entries` ([name, content, type?, linkname?]). */
function archive(file: string, entries: [string, string, string?, string?][]): string {
  const parts: Buffer[] = [];
  for (const [name, content, type, link] of entries) {
    const data = Buffer.from(content);
    parts.push(header(name, data.length, type, link), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  fs.writeFileSync(file, gzipSync(Buffer.concat(parts)));
  return file;
}

const YAML = "id: p1\ndescription: a patch\n";

describe("patch manifests", () => {
  it("reports every problem at its line and column, with suggestions", () => {
    expect(() =>
      parseManifest("id: ../bad\ndescripton: hi\nstep: [a]\ndelete: [../x]\n", "p/patch.yaml"),
    ).toThrow(/p\/patch.yaml:2:1: `descripton`: .*did you mean `description`/s);
    expect(() => parseManifest("id: a\ndescription: b\nrequires: [a]\n", "p/patch.yaml")).toThrow(/requires/);
    expect(parseManifest(`${YAML}steps: ["node build.js", [node, m.js]]\n`, "p/patch.yaml")).toEqual({
      id: "p1",
      description: "a patch",
      requires: [],
      delete: [],
      steps: ["node build.js", ["node", "m.js"]],
      verify: [],
    });
  });
});

describe("patch archives", () => {
  it("reads a real tar.gz wrapped in one directory, with a long (pax/GNU) path", async () => {
    const dir = tmp();
    const long = `files/${"d".repeat(60)}/${"e".repeat(60)}/deep.txt`;
    fs.mkdirSync(path.join(dir, "wrapped", path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(dir, "wrapped", "patch.yaml"), YAML);
    fs.writeFileSync(path.join(dir, "wrapped", long), "deep\n");
    const tgz = path.join(dir, "p.tgz");
    execFileSync("tar", ["-czf", tgz, "-C", dir, "wrapped"]);
    const entries = await readTarGz(tgz);
    expect(entries.find((e) => e.path === long)?.data.toString()).toBe("deep\n");
    const store = tmp();
    const imported = await importPatch(tgz, store);
    expect(imported.manifest.id).toBe("p1");
    expect(fs.readFileSync(path.join(store, "p1", long), "utf8")).toBe("deep\n");
    expect(fs.readdirSync(store)).toEqual(["p1"]); // no scratch left behind
  });

  for (const [what, entries, reason] of [
    [
      "a `..` path",
      [
        ["patch.yaml", YAML],
        ["../escape", "x"],
      ],
      /has a `\.\.` segment/,
    ],
    [
      "an absolute path",
      [
        ["patch.yaml", YAML],
        ["/etc/passwd", "x"],
      ],
      /has an absolute path/,
    ],
    [
      "a path escaping after normalisation",
      [
        ["patch.yaml", YAML],
        ["a/../../x", "x"],
      ],
      /outside the target|`\.\.` segment/,
    ],
    [
      "a symbolic link",
      [
        ["patch.yaml", YAML],
        ["files/link", "", "2", "/etc/passwd"],
      ],
      /is a symbolic link/,
    ],
    [
      "a hard link",
      [
        ["patch.yaml", YAML],
        ["files/hard", "", "1", "patch.yaml"],
      ],
      /is a hard link/,
    ],
  ] as [string, [string, string, string?, string?][], RegExp][]) {
    it(`refuses an archive holding ${what}, writing nothing`, async () => {
      const dir = tmp();
      const tgz = archive(path.join(dir, "evil.tar.gz"), entries);
      const store = tmp();
      await expect(importPatch(tgz, store)).rejects.toThrow(reason);
      await expect(importPatch(tgz, store)).rejects.toThrow(/nothing was written/);
      expect(fs.readdirSync(store)).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual(["evil.tar.gz"]);
    });
  }

  it("a directory without patch.yaml, or a file that is no archive, is a clear error", async () => {
    const dir = tmp();
    await expect(loadPatch(dir)).rejects.toThrow(/no patch.yaml at the top of the patch/);
    fs.writeFileSync(path.join(dir, "p.tar.gz"), "not gzip");
    await expect(loadPatch(path.join(dir, "p.tar.gz"))).rejects.toThrow(/not a gzip-compressed tar archive/);
    fs.writeFileSync(path.join(dir, "p.zip"), "x");
    await expect(loadPatch(path.join(dir, "p.zip"))).rejects.toThrow(/a directory or a .tar.gz/);
  });
});
