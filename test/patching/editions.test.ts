/**
 * The editions on disk: init, the atomic link swap (a reader in another process never misses
 * `run`), a swap cut in half by a crash, fs-clone resuming, delta sync honouring `exclude`, disk.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cloneEdition } from "../../src/patching/clone.js";
import { deltaSync } from "../../src/patching/delta.js";
import { checkSpace, freeBytes, treeSize } from "../../src/patching/disk.js";
import { compileExclude } from "../../src/patching/exclude.js";
import { EditionLayout } from "../../src/patching/layout.js";

const tmp = (): string => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ed-")));

function app(): string {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, "lib"));
  fs.writeFileSync(path.join(dir, "server.js"), "console.log(1)\n");
  fs.writeFileSync(path.join(dir, "lib", "a.js"), "a\n");
  fs.writeFileSync(path.join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "debug.log"), "noise\n");
  fs.symlinkSync("lib/a.js", path.join(dir, "alias.js"));
  return dir;
}

/** `rel → content | link:target | dir` of a tree, to compare two trees whole. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = "dir";
        visit(r);
      } else out[r] = `${(st.mode & 0o777).toString(8)}:${fs.readFileSync(p, "utf8")}`;
    }
  };
  visit("");
  return out;
}

describe("editions", () => {
  it("init copies the application (minus exclude) into both editions; run → fs1, patch → fs2", async () => {
    const src = app();
    const root = path.join(tmp(), "editions");
    const layout = await EditionLayout.init(root, src, { exclude: ["*.log"] });
    expect(layout.read()).toEqual({ run: "fs1", patch: "fs2" });
    const expected = snapshot(src);
    delete expected["debug.log"];
    expect(snapshot(path.join(root, "fs1"))).toEqual(expected);
    expect(snapshot(path.join(root, "fs2"))).toEqual(expected);
    expect(layout.runDir()).toBe(path.join(root, "fs1"));
    await expect(EditionLayout.init(root, src)).rejects.toThrow(/already holds editions/);
    await expect(EditionLayout.init(path.join(tmp(), "x"), path.join(src, "nope"))).rejects.toThrow(
      /is not a directory/,
    );
  });

  it("init with the root inside the application directory leaves the root out of the copy", async () => {
    const src = app();
    const layout = await EditionLayout.init(path.join(src, ".steward", "editions"), src);
    expect(fs.existsSync(path.join(layout.paths.fs1, ".steward", "editions"))).toBe(false);
    expect(fs.existsSync(path.join(layout.paths.fs1, "server.js"))).toBe(true);
  });

  it("a missing layout is a clear error naming what to do", () => {
    const layout = new EditionLayout(path.join(tmp(), "nothing"));
    expect(() => layout.read()).toThrow(
      /does not exist; create the editions with `steward patch init --from DIR`/,
    );
  });

  it("a reader in another process never misses `run` while it is swapped 500 times", async () => {
    const layout = await EditionLayout.init(path.join(tmp(), "editions"), app());
    const run = path.join(layout.paths.root, "run");
    const reader = spawn(process.execPath, [
      "-e",
      `const fs=require("fs");let n=0,bad=[];process.stdin.on("data",()=>{console.log(JSON.stringify({n,bad:bad.slice(0,3),errors:bad.length}));process.exit(0)});` +
        `(function loop(){for(let i=0;i<200;i++){try{const v=fs.readlinkSync(${JSON.stringify(run)});fs.statSync(${JSON.stringify(path.join(run, "server.js"))});if(v!=="fs1"&&v!=="fs2")bad.push(v);n++}catch(e){bad.push(e.code)}}setImmediate(loop)})();console.error("ready")`,
    ]);
    await new Promise((r) => reader.stderr.once("data", r));
    for (let i = 0; i < 500; i += 1) await layout.swap();
    let out = "";
    reader.stdout.on("data", (c: Buffer) => (out += c.toString()));
    reader.stdin.write("x");
    await new Promise((r) => reader.once("exit", r));
    const { n, errors } = JSON.parse(out) as { n: number; errors: number };
    expect(errors).toBe(0);
    expect(n).toBeGreaterThan(500);
    expect(layout.read()).toEqual({ run: "fs1", patch: "fs2" });
  });

  it("a swap cut in half by a crash (run renamed, patch not yet) reads back consistent", async () => {
    const layout = await EditionLayout.init(path.join(tmp(), "editions"), app());
    const tmpLink = path.join(layout.paths.root, ".run.crash.tmp");
    fs.symlinkSync("fs2", tmpLink);
    fs.renameSync(tmpLink, layout.paths.runLink); // the first rename of a swap, and then the crash
    expect(layout.read()).toEqual({ run: "fs2", patch: "fs1" });
    expect(fs.readlinkSync(layout.paths.patchLink)).toBe("fs1");
  });

  it("fs-clone resumes after an interruption, copying only what is left, and ends identical", async () => {
    const from = app();
    for (let i = 0; i < 30; i += 1) fs.writeFileSync(path.join(from, `f${i}.txt`), `file ${i}\n`);
    const to = path.join(tmp(), "fs2");
    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, "stale.txt"), "old\n");
    const tmpDir = tmp();
    await expect(
      cloneEdition(from, to, {
        tmpDir,
        onProgress: ({ files }) => {
          if (files === 10) throw new Error("interrupted");
        },
      }),
    ).rejects.toThrow("interrupted");
    expect(fs.existsSync(path.join(to, "stale.txt"))).toBe(true); // the edition is replaced only at the end
    const resumed = await cloneEdition(from, to, { tmpDir });
    expect(resumed.resumed).toBe(true);
    expect(resumed.files).toBeLessThan(30);
    expect(snapshot(to)).toEqual(snapshot(from));
    const forced = await cloneEdition(from, to, { tmpDir, force: true });
    expect(forced.resumed).toBe(false);
    expect(forced.files).toBe(35);
  });

  it("delta sync copies what changed, deletes what run lacks, and leaves `exclude` alone in both trees", async () => {
    const from = app();
    const to = tmp();
    await deltaSync(from, to, []);
    expect(snapshot(to)).toEqual(snapshot(from));
    fs.writeFileSync(path.join(from, "server.js"), "console.log(2)\n");
    fs.rmSync(path.join(from, "lib", "a.js"));
    fs.writeFileSync(path.join(from, "new.log"), "excluded in run\n");
    fs.writeFileSync(path.join(to, "mine.log"), "excluded in patch\n");
    fs.mkdirSync(path.join(to, "tmp"));
    fs.writeFileSync(path.join(to, "tmp", "cache"), "kept\n");
    const d = await deltaSync(from, to, ["*.log", "tmp/"]);
    expect(d).toMatchObject({ copied: 1, deleted: 1 });
    expect(fs.readFileSync(path.join(to, "server.js"), "utf8")).toBe("console.log(2)\n");
    expect(fs.existsSync(path.join(to, "lib", "a.js"))).toBe(false);
    expect(fs.existsSync(path.join(to, "new.log"))).toBe(false);
    expect(fs.readFileSync(path.join(to, "mine.log"), "utf8")).toBe("excluded in patch\n");
    expect(fs.readFileSync(path.join(to, "debug.log"), "utf8")).toBe("noise\n"); // excluded: not deleted either
    expect(fs.existsSync(path.join(to, "tmp", "cache"))).toBe(true);
  });

  it("exclude patterns: names anywhere, directories, anchored paths, **", () => {
    const x = compileExclude(["*.log", "tmp/", "/build", "conf/*.local", "**/cache/**"]);
    expect(x("a/b/c.log", false)).toBe(true);
    expect(x("tmp", true)).toBe(true);
    expect(x("a/tmp", true)).toBe(true);
    expect(x("a/tmp", false)).toBe(false);
    expect(x("build", true)).toBe(true);
    expect(x("src/build", true)).toBe(false);
    expect(x("conf/x.local", false)).toBe(true);
    expect(x("other/conf/x.local", false)).toBe(false);
    expect(x("a/cache/b", false)).toBe(true);
    expect(x("server.js", false)).toBe(false);
    expect(() => compileExclude([""])).toThrow(/empty pattern/);
  });

  it("disk: the size of a tree, free space, and a refusal naming both", async () => {
    const dir = app();
    expect(await treeSize(dir)).toBe(["console.log(1)\n", "a\n", "#!/bin/sh\n", "noise\n"].join("").length);
    expect(await freeBytes(dir)).toBeGreaterThan(0);
    await expect(checkSpace(dir, 1e18)).rejects.toThrow(/not enough free space under .*: need .* MB .*free/);
  });
});
