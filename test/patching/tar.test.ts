/**
 * The streaming patch-archive reader: real `.tar.gz` files made by GNU tar (gnu, pax and ustar
 * formats, long paths, `./` names, a wrapping directory, modes); hand-built archives that try to
 * escape or smuggle links, each refused whole with nothing left behind; archives past a limit —
 * the 1 MiB archive holding a 1 GiB file, a pax header built to fill memory — refused as
 * "too large" after reading only part of them; and damaged archives.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidPatchError, PatchTooLargeError, UnsafePatchArchiveError } from "../../src/patching/errors.js";
import { extractTarGz } from "../../src/patching/tar.js";
import { DEFAULT_TAR_LIMITS } from "../../src/patching/tar-safety.js";
import {
  paxRecord,
  tarBytes,
  writeRepeatedTarGz,
  writeTarGz,
  type RawEntry,
} from "./fixtures/tar-builder.js";

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-tar-")));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const LONG = `files/${"d".repeat(60)}/${"e".repeat(60)}/deep-${"f".repeat(30)}.txt`;

/** A patch tree under `<dir>/<name>` made with real files. */
function makeTree(dir: string, name: string): string {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, path.dirname(LONG)), { recursive: true });
  fs.writeFileSync(path.join(root, "patch.yaml"), "id: p1\ndescription: a patch\n");
  fs.writeFileSync(path.join(root, LONG), "deep\n");
  fs.mkdirSync(path.join(root, "files/bin"), { recursive: true });
  fs.writeFileSync(path.join(root, "files/bin/run.sh"), "#!/bin/sh\necho hi\n");
  fs.chmodSync(path.join(root, "files/bin/run.sh"), 0o755);
  return root;
}

/** Every file under `root` → content, `/`-separated relative paths. */
function files(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(root, { recursive: true }) as string[]) {
    const p = path.join(root, rel);
    if (fs.statSync(p).isFile()) out[rel.split(path.sep).join("/")] = fs.readFileSync(p, "utf8");
  }
  return out;
}

const TREE = {
  "patch.yaml": "id: p1\ndescription: a patch\n",
  [LONG]: "deep\n",
  "files/bin/run.sh": "#!/bin/sh\necho hi\n",
};

describe("real archives made by GNU tar", () => {
  for (const format of ["gnu", "pax", "ustar"]) {
    it(`extracts a ${format} archive with a path longer than 100 characters, keeping modes`, async () => {
      const dir = tmp();
      makeTree(dir, "p");
      const tgz = path.join(dir, "p.tar.gz");
      execFileSync("tar", [
        `--format=${format}`,
        "-czf",
        tgz,
        "-C",
        path.join(dir, "p"),
        "patch.yaml",
        "files",
      ]);
      const out = path.join(dir, "out");
      const r = await extractTarGz(tgz, out);
      expect(r).toMatchObject({ dir: out, wrapper: undefined, bytes: 28 + 5 + 18 });
      expect(r.entries.find((e) => e.path === "patch.yaml")).toEqual({
        path: "patch.yaml",
        type: "file",
        size: 28,
        mode: 0o644,
      });
      expect(files(out)).toEqual(TREE);
      expect(fs.statSync(path.join(out, "files/bin/run.sh")).mode & 0o777).toBe(0o755);
    });
  }

  it("strips a single wrapping directory; `./` names are normalised and not a wrapper", async () => {
    const dir = tmp();
    makeTree(dir, "mypatch");
    const wrapped = path.join(dir, "wrapped.tgz");
    execFileSync("tar", ["-czf", wrapped, "-C", dir, "mypatch/"]);
    const r = await extractTarGz(wrapped, path.join(dir, "out1"));
    expect(r.wrapper).toBe("mypatch");
    expect(r.dir).toBe(path.join(dir, "out1", "mypatch"));
    expect(files(r.dir)).toEqual(TREE);
    expect(r.entries.map((e) => e.path)).toContain("patch.yaml");

    const dotted = path.join(dir, "dotted.tgz");
    execFileSync("tar", ["-czf", dotted, "-C", path.join(dir, "mypatch"), "."]);
    const d = await extractTarGz(dotted, path.join(dir, "out2"));
    expect(d.wrapper).toBeUndefined();
    expect(files(d.dir)).toEqual(TREE);
  });

  it("does not strip when the top level holds a file", async () => {
    const dir = tmp();
    makeTree(dir, "p");
    const tgz = path.join(dir, "p.tgz");
    execFileSync("tar", ["-czf", tgz, "-C", path.join(dir, "p"), "patch.yaml", "files"]);
    expect((await extractTarGz(tgz, path.join(dir, "out"))).wrapper).toBeUndefined();
  });
});

const GOOD: RawEntry[] = [
  { name: "patch.yaml", data: "id: p1\ndescription: x\n" },
  { name: "files/", type: "5" },
  { name: "files/a.js", data: "a\n" },
];

/** Extracting `tgz` into `<dir>/out` fails with `err`; nothing is left but the archive. */
async function refused(tgz: string, limits = DEFAULT_TAR_LIMITS): Promise<Error> {
  const dir = path.dirname(tgz);
  const err = (await extractTarGz(tgz, path.join(dir, "out"), limits).catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(fs.readdirSync(dir)).toEqual([path.basename(tgz)]);
  return err;
}

describe("unsafe archives are refused whole, leaving nothing", () => {
  const cases: [string, RawEntry[], string, RegExp][] = [
    ["a `..` path", [{ name: "../escape", data: "x" }], "../escape", /has a `\.\.` segment/],
    ["an absolute path", [{ name: "/etc/passwd", data: "x" }], "/etc/passwd", /has an absolute path/],
    [
      "a path that escapes once normalised",
      [{ name: "a/../../x", data: "x" }],
      "a/../../x",
      /would land outside the target \(it normalises to `\.\.\/x`\)/,
    ],
    ["a `..` inside a path", [{ name: "files/../../x", data: "x" }], "files/../../x", /outside the target/],
    [
      "a symbolic link",
      [{ name: "files/link", type: "2", linkname: "/etc/passwd" }],
      "files/link",
      /is a symbolic link \(to `\/etc\/passwd`\); a patch archive holds regular files and directories only/,
    ],
    [
      "a hard link",
      [{ name: "files/hard", type: "1", linkname: "patch.yaml" }],
      "files/hard",
      /is a hard link \(to `patch.yaml`\)/,
    ],
    ["a character device", [{ name: "files/tty", type: "3" }], "files/tty", /is a character device/],
    ["a fifo", [{ name: "files/pipe", type: "6" }], "files/pipe", /is a fifo/],
    ["an unknown type", [{ name: "files/sparse", type: "S" }], "files/sparse", /has an unsupported type/],
    [
      "a pax path that escapes",
      [
        { name: "PaxHeaders/x", type: "x", data: paxRecord("path", "../pax-escape") },
        { name: "ok", data: "x" },
      ],
      "../pax-escape",
      /`\.\.` segment/,
    ],
    [
      "a pax link path hidden behind a harmless name",
      [
        { name: "PaxHeaders/y", type: "x", data: paxRecord("linkpath", "/etc/shadow") },
        { name: "files/innocent", type: "2", linkname: "a.js" },
      ],
      "files/innocent",
      /symbolic link \(to `\/etc\/shadow`\)/,
    ],
    [
      "a GNU long name that is absolute",
      [
        { name: "././@LongLink", type: "L", data: `/tmp/${"x".repeat(120)}\0` },
        { name: "short", data: "x" },
      ],
      `/tmp/${"x".repeat(120)}`,
      /absolute path/,
    ],
    [
      "a file under a file",
      [{ name: "files/a.js/b", data: "x" }],
      "files/a.js/b",
      /inside `files\/a.js`, which the archive holds as a file/,
    ],
  ];
  for (const [what, bad, entry, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const tgz = writeTarGz(path.join(tmp(), "evil.tar.gz"), [
        ...GOOD,
        ...bad,
        { name: "later.txt", data: "y" },
      ]);
      const err = await refused(tgz);
      expect(err).toBeInstanceOf(UnsafePatchArchiveError);
      expect((err as UnsafePatchArchiveError).details).toMatchObject({ archive: tgz, entry });
      expect(err.message).toMatch(reason);
      expect(err.message).toMatch(/nothing was written$/);
    });
  }
});

describe("archives past a limit are refused as too large, while streaming", () => {
  it("the entry count and the unpacked size, with the limit and how to raise it", async () => {
    const tgz = writeTarGz(path.join(tmp(), "big.tar.gz"), GOOD);
    const entries = await refused(tgz, { ...DEFAULT_TAR_LIMITS, maxEntries: 2 });
    expect(entries).toBeInstanceOf(PatchTooLargeError);
    expect(entries.message).toBe(
      `patch archive ${tgz} is too large: it holds more than 2 entries (the limit); nothing was written; if it is genuine, raise the limit: \`steward patch apply --max-entries 4 …\``,
    );
    const bytes = await refused(tgz, { ...DEFAULT_TAR_LIMITS, maxBytes: 23 });
    expect(bytes.message).toMatch(
      /is too large: its files come to more than 23 bytes unpacked \(the limit; entry `files\/a.js` of 2 bytes passes it\); nothing was written; .*--max-size 46/,
    );
    await expect(
      extractTarGz(tgz, path.join(path.dirname(tgz), "ok"), { ...DEFAULT_TAR_LIMITS, maxBytes: 24 }),
    ).resolves.toMatchObject({ bytes: 24 });
  });

  it("a header announcing more than the limit is refused before its data is read", async () => {
    const huge = path.join(tmp(), "huge.tar.gz");
    // 2 GiB announced: refused at its header, before a byte of its data is written.
    writeRepeatedTarGz(huge, "files/huge.bin", 2 * 1024 ** 3);
    const err = await refused(huge);
    expect(err).toBeInstanceOf(PatchTooLargeError);
    expect(err.message).toMatch(
      /its files come to more than 1 GiB unpacked \(the limit; entry `files\/huge.bin` of 2 GiB/,
    );
    expect(err.message).toMatch(/--max-size 2GiB/);
  });

  it("the issue's bomb: a ~1 MiB archive holding a 1 GiB file stops at the ratio limit, not at 1 GiB", async () => {
    const bomb = writeRepeatedTarGz(path.join(tmp(), "bomb.tar.gz"), "files/zeros.bin", 1024 ** 3);
    expect(fs.statSync(bomb).size).toBeLessThan(2 * 1024 ** 2);
    const before = process.memoryUsage().rss;
    const err = await refused(bomb);
    expect(err).toBeInstanceOf(PatchTooLargeError);
    expect(err.message).toMatch(
      /is too large: it unpacks to more than 100 times its own size \(the limit; 1(\.\d)? MiB unpacking past 10\d(\.\d)? MiB/,
    );
    expect(err.message).toMatch(/--max-ratio 1000/);
    expect(err.message).not.toMatch(/gzip/);
    // Streaming: memory does not follow what the archive unpacks to.
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 ** 2);
  });

  it("a pax header built to fill memory is refused after about a MiB of it", async () => {
    const file = writeRepeatedTarGz(
      path.join(tmp(), "pax-bomb.tar.gz"),
      "PaxHeaders/x",
      512 * 1024 ** 2,
      0x61,
      "x",
    );
    const err = await refused(file);
    expect(err).toBeInstanceOf(PatchTooLargeError);
    expect(err.message).toMatch(
      /its tar headers \(pax records, long names, padding\) take more than 1 MiB beyond the file data/,
    );
  });

  it("a small archive of zeros is fine: the ratio applies past 64 MiB", async () => {
    const file = writeRepeatedTarGz(path.join(tmp(), "zeros.tar.gz"), "zeros.bin", 8 * 1024 ** 2);
    const r = await extractTarGz(file, path.join(path.dirname(file), "out"));
    expect(r.bytes).toBe(8 * 1024 ** 2);
    expect(fs.statSync(path.join(r.dir, "zeros.bin")).size).toBe(8 * 1024 ** 2);
  });
});

describe("damaged archives", () => {
  it("not gzip, a truncated gzip stream, a truncated tar, a bad checksum: InvalidPatchErrors", async () => {
    const notGzip = path.join(tmp(), "a.tar.gz");
    fs.writeFileSync(notGzip, "not gzip at all");
    const e1 = await refused(notGzip);
    expect(e1).toBeInstanceOf(InvalidPatchError);
    expect(e1.message).toMatch(/not a gzip-compressed tar archive/);

    const whole = tarBytes([{ name: "patch.yaml", data: "x".repeat(2000) }]);
    const cut = path.join(tmp(), "b.tar.gz");
    fs.writeFileSync(cut, gzipSync(whole).subarray(0, 40));
    expect((await refused(cut)).message).toMatch(/the archive is truncated \(the gzip stream ends early\)/);

    const shortTar = path.join(tmp(), "c.tar.gz");
    fs.writeFileSync(shortTar, gzipSync(whole.subarray(0, 1024)));
    expect((await refused(shortTar)).message).toMatch(/the archive is truncated \(it ends inside an entry\)/);

    const damaged = Buffer.from(whole);
    damaged[0] = "q".charCodeAt(0);
    const bad = path.join(tmp(), "d.tar.gz");
    fs.writeFileSync(bad, gzipSync(damaged));
    expect((await refused(bad)).message).toMatch(/not a tar archive, or a damaged one: Invalid tar header/);
  });

  it("refuses to extract into a directory that exists", async () => {
    const dir = tmp();
    const tgz = writeTarGz(path.join(dir, "p.tar.gz"), GOOD);
    fs.mkdirSync(path.join(dir, "out"));
    await expect(extractTarGz(tgz, path.join(dir, "out"))).rejects.toThrow(/EEXIST/);
  });
});
