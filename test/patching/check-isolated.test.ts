/**
 * The daemon's side of patch checking: a real `steward patch check --json` child (it runs
 * bin/steward.js, so `npm run build` first). A good archive comes back staged and re-checked; the
 * issue's bomb comes back as STW-3009 "too large" with nothing staged; a raised limit lets a
 * genuine archive through; `steward patch check` itself exits 2 on a refused patch.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { StewardError } from "../../src/errors.js";
import { checkPatchesIsolated } from "../../src/patching/check-isolated.js";
import { writeRepeatedTarGz, writeTarGz } from "./fixtures/tar-builder.js";

const BIN = fileURLToPath(new URL("../../bin/steward.js", import.meta.url));
const tmp = (): string => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "stw-ci-")));

describe("checkPatchesIsolated", () => {
  it("stages a good archive and answers with its checked manifest", async () => {
    const dir = tmp();
    const stage = tmp();
    const tgz = writeTarGz(path.join(dir, "p.tar.gz"), [
      { name: "patch.yaml", data: "id: p1\ndescription: d\nsteps: [node b.js]\n" },
      { name: "files/a.js", data: "a\n" },
    ]);
    const [p] = await checkPatchesIsolated([tgz], { stage });
    expect(p!.manifest).toEqual({
      id: "p1",
      description: "d",
      requires: [],
      delete: [],
      steps: ["node b.js"],
      verify: [],
    });
    expect(p!.staging!.startsWith(`${stage}/import-`)).toBe(true);
    expect(fs.readFileSync(path.join(p!.dir, "files/a.js"), "utf8")).toBe("a\n");
  });

  it("a 1 GiB file in a ~1 MiB archive: STW-3009 too large, nothing staged; a raised --max-ratio lets 80 MiB of zeros through", async () => {
    const dir = tmp();
    const stage = tmp();
    const bomb = writeRepeatedTarGz(path.join(dir, "bomb.tar.gz"), "files/zeros.bin", 1024 ** 3);
    const err = (await checkPatchesIsolated([bomb], { stage }).catch((e: unknown) => e)) as StewardError;
    expect(err).toBeInstanceOf(StewardError);
    expect(err.code).toBe("STW-3009");
    expect(err.message).toMatch(/is too large: it unpacks to more than 100 times its own size/);
    expect(fs.readdirSync(stage)).toEqual([]);
    const small = writeRepeatedTarGz(path.join(dir, "small.tar.gz"), "zeros.bin", 80 * 1024 ** 2);
    await expect(checkPatchesIsolated([small], { stage })).rejects.toThrow(/--max-ratio/);
    // Past the ratio but within a raised one: only the missing patch.yaml is left to refuse.
    await expect(checkPatchesIsolated([small], { stage, limits: { maxRatio: 100_000 } })).rejects.toThrow(
      /no patch.yaml at the top of the patch/,
    );
    expect(fs.readdirSync(stage)).toEqual([]);
  });

  it("`steward patch check` exits 2 on a refused patch and prints the reason", () => {
    const dir = tmp();
    const tgz = writeTarGz(path.join(dir, "evil.tar.gz"), [{ name: "../escape", data: "x" }]);
    const r = spawnSync(process.execPath, [BIN, "patch", "check", tgz], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/entry `\.\.\/escape` has a `\.\.` segment; nothing was written/);
    const json = spawnSync(process.execPath, [BIN, "patch", "check", "--json", tgz], { encoding: "utf8" });
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe("STW-3005");
  });
});
