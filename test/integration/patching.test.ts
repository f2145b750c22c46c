/**
 * Online patching end to end, with a real daemon, real editions on disk and real HTTP through the
 * edge: a full cycle under a request loop with zero failures, refusals (phase order, bad patches,
 * unsafe archives, disk), resume of a failed step, rollback when the new edition never becomes
 * ready, and a SIGKILL of the daemon at cutover sub-steps — after which one edition serves, never
 * both, never none, and `patch status` says which.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alive,
  fixture,
  freePort,
  openStateDb,
  project,
  status,
  steward,
  stewardWith,
  waitFor,
} from "./helpers.js";

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

interface App {
  dir: string;
  port: number;
  root: string;
}

/** A project running test/fixtures/edition-app from two editions under `<dir>/editions`. */
async function app(extra = ""): Promise<App> {
  const port = await freePort();
  const dir = project(`
name: patched
components:
  web:
    command: node server.js
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 3s }
    stop: { grace: 3s }
    drain: { timeout: 3s }
  worker:
    command: node worker.js
    stop: { grace: 3s }
jobs:
  report:
    command: "node -e \\"console.log('report')\\""
    during_patching: hold
  long:
    command: sleep 30
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
patching:
  root: editions
${extra}`);
  fs.cpSync(fixture("edition-app"), path.join(dir, "app"), { recursive: true });
  const init = await steward(dir, "patch", "init", "--from", "app");
  expect(init.code, init.stderr).toBe(0);
  return { dir, port, root: path.join(dir, "editions") };
}

/** Writes a patch directory `<dir>/patches/<id>` and returns its path. */
function patch(dir: string, id: string, yaml: string, files: Record<string, string> = {}): string {
  const p = path.join(dir, "patches", id);
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), `id: ${id}\ndescription: test patch ${id}\n${yaml}`);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(p, "files", name)), { recursive: true });
    fs.writeFileSync(path.join(p, "files", name), text);
  }
  return p;
}

const links = (root: string): { run: string; patch: string } => ({
  run: fs.readlinkSync(path.join(root, "run")),
  patch: fs.readlinkSync(path.join(root, "patch")),
});

async function patchStatus(dir: string): Promise<{
  open: {
    id: number;
    status: string;
    phases: Record<string, { state: string; detail: string | null }>;
  } | null;
  history: { id: number; status: string; reason: string | null; phases: Record<string, { state: string }> }[];
}> {
  const r = await steward(dir, "patch", "status", "--json");
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as never;
}

/** The versions the edge answers with, over `n` requests. */
async function versions(port: number, n = 8): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i += 1) seen.add((await get(port, "/")).body.split(" ")[0]!);
  return seen;
}

async function prepareAndApply(a: App, ...patches: string[]): Promise<void> {
  const prepare = await steward(a.dir, "patch", "prepare");
  expect(prepare.code, prepare.stdout + prepare.stderr).toBe(0);
  const apply = await steward(a.dir, "patch", "apply", ...patches);
  expect(apply.code, apply.stdout + apply.stderr).toBe(0);
  const finalize = await steward(a.dir, "patch", "finalize");
  expect(finalize.code, finalize.stdout + finalize.stderr).toBe(0);
}

describe("online patching", () => {
  it("a full cycle: the run edition serves while the patch edition is built; cutover under load fails no request", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    expect(await versions(a.port)).toEqual(new Set(["v1"]));
    const v2 = patch(a.dir, "v2", 'steps: ["node build.js"]\nverify: ["node check.js"]\n', {
      "version.src": "2\n",
      "build.js":
        "import fs from 'node:fs'; fs.writeFileSync('version.txt', fs.readFileSync('version.src'));\n",
      "check.js":
        "import fs from 'node:fs'; if (fs.readFileSync('version.txt','utf8').trim() !== '2') process.exit(1);\n",
    });
    await prepareAndApply(a, v2);
    // Built in the patch edition only; run still answers v1.
    expect(fs.readFileSync(path.join(a.root, "fs2", "version.txt"), "utf8").trim()).toBe("2");
    expect(fs.readFileSync(path.join(a.root, "fs1", "version.txt"), "utf8").trim()).toBe("1");
    expect(await versions(a.port)).toEqual(new Set(["v1"]));
    // The `run` link is never missing: a watcher resolves it in a tight loop during the cutover.
    const watcher = spawn(process.execPath, [
      "-e",
      `const fs=require("fs");let n=0,bad=0;const t=Date.now();while(Date.now()-t<4000){try{const v=fs.readlinkSync(${JSON.stringify(path.join(a.root, "run"))});fs.statSync(${JSON.stringify(path.join(a.root, "run", "server.js"))});if(v!=="fs1"&&v!=="fs2")bad++;n++}catch{bad++}}console.log(JSON.stringify({n,bad}))`,
    ]);
    let watched = "";
    watcher.stdout.on("data", (c: Buffer) => (watched += c.toString()));
    let stop = false;
    const results: string[] = [];
    const loop = (async () => {
      while (!stop)
        results.push(
          await get(a.port, "/").then(
            (r) => `${r.status} ${r.body.split(" ")[0]}`,
            () => "error",
          ),
        );
    })();
    await waitFor("requests before the cutover", () => results.length > 20);
    const cutover = await steward(a.dir, "patch", "cutover");
    expect(cutover.code, cutover.stdout + cutover.stderr).toBe(0);
    expect(cutover.stdout).toMatch(/switched: web → 2, 3/);
    const at = results.length;
    await waitFor("requests after the cutover", () => results.length > at + 20);
    stop = true;
    await loop;
    await new Promise((r) => watcher.once("exit", r));
    const { n, bad } = JSON.parse(watched) as { n: number; bad: number };
    expect(n).toBeGreaterThan(100);
    expect(bad).toBe(0);
    expect(results.filter((r) => !r.startsWith("200 "))).toEqual([]);
    expect(results.at(-1)).toBe("200 v2");
    expect(links(a.root)).toEqual({ run: "fs2", patch: "fs1" });
    const doc = await status(a.dir);
    const web = doc.components.find((c) => c.name === "web")!;
    expect(web.replicas.map((r) => [r.index, r.state])).toEqual([
      [2, "ready"],
      [3, "ready"],
    ]);
    const text = await steward(a.dir, "patch", "status");
    expect(text.stdout).toMatch(
      /cutover steps \(session 1\):\n {2}wait-jobs .*done\n {2}start-new +web +done .*\n {2}restart-on-new +worker +done.*\n {2}switch .*done.*\n {2}retire-old +web +done.*\n {2}swap-links .*done/,
    );
    const s = await patchStatus(a.dir);
    expect(s.open).toBeNull();
    expect(s.history[0]).toMatchObject({ id: 1, status: "completed" });
    expect(Object.keys(s.history[0]!.phases)).toEqual(["prepare", "apply", "finalize", "cutover"]);
    expect((await steward(a.dir, "patch", "abort")).stderr).toMatch(
      /cannot run `patch abort`: no patch cycle is open/,
    );
    const history = await steward(a.dir, "patch", "history");
    expect(history.stdout).toMatch(/fs2 \(run\): v2/);
    const cleanup = await steward(a.dir, "patch", "cleanup");
    expect(cleanup.code, cleanup.stderr).toBe(0);
    // The next cycle syncs the patch edition (fs1) by replaying v2 from the patch store.
    const prepare = await steward(a.dir, "patch", "prepare");
    expect(prepare.code, prepare.stdout + prepare.stderr).toBe(0);
    expect(prepare.stdout).toMatch(/replaying v2/);
    expect(fs.readFileSync(path.join(a.root, "fs1", "version.txt"), "utf8").trim()).toBe("2");
  });

  it("refuses phases out of order, naming the next one, and changes nothing", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    const p = patch(a.dir, "p1", "");
    const apply = await steward(a.dir, "patch", "apply", p);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(
      /cannot run `patch apply`: no patch cycle is open; next: `steward patch prepare`/,
    );
    expect((await steward(a.dir, "patch", "finalize")).stderr).toMatch(/next: `steward patch prepare`/);
    expect((await steward(a.dir, "patch", "cutover")).stderr).toMatch(/next: `steward patch prepare`/);
    expect((await steward(a.dir, "patch", "abort")).stderr).toMatch(/no patch cycle is open/);
    expect((await steward(a.dir, "patch", "prepare")).code).toBe(0);
    expect((await steward(a.dir, "status")).stdout).toMatch(
      /patching: patch session 1 open \(prepare done\) · next: steward patch apply <patch>/,
    );
    const again = await steward(a.dir, "patch", "prepare");
    expect(again.stderr).toMatch(
      /a cycle is already open: patch session 1 is open .*next: `steward patch apply <patch>`/,
    );
    expect((await steward(a.dir, "patch", "finalize")).stderr).toMatch(
      /no patch has been applied in session 1/,
    );
    expect((await steward(a.dir, "patch", "cutover")).stderr).toMatch(
      /session 1 is not finalized; next: `steward patch apply <patch>`/,
    );
    expect((await steward(a.dir, "patch", "fs-clone")).stderr).toMatch(
      /abort it first; next: `steward patch abort`/,
    );
    // Held job: refused while the cycle is open, runs again after abort.
    const run = await steward(a.dir, "run", "report");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/job `report` is held: patch session 1 is open \(during_patching: hold\)/);
    const abort = await steward(a.dir, "patch", "abort");
    expect(abort.code, abort.stderr).toBe(0);
    expect(abort.stdout).toMatch(/marked for a full resync/);
    expect((await steward(a.dir, "run", "report")).code).toBe(0);
    expect((await patchStatus(a.dir)).history[0]).toMatchObject({ status: "aborted" });
    // fs-clone copies run over the patch edition, outside any cycle; the next prepare needs no resync.
    fs.writeFileSync(path.join(a.root, "fs2", "junk.txt"), "left by the aborted cycle\n");
    const clone = await steward(a.dir, "patch", "fs-clone");
    expect(clone.code, clone.stdout + clone.stderr).toBe(0);
    expect(clone.stdout).toMatch(/copied to fs2: \d+ files/);
    expect(fs.existsSync(path.join(a.root, "fs2", "junk.txt"))).toBe(false);
    expect((await patchStatus(a.dir)).history[0]).toMatchObject({ id: 2, status: "completed" });
    const history = await steward(a.dir, "patch", "history");
    expect(history.stdout).not.toMatch(/full resync/);
  });

  it("refuses bad patches: no patch.yaml, unknown keys, a missing requirement, an archive escaping the edition", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    expect((await steward(a.dir, "patch", "prepare")).code).toBe(0);
    const empty = path.join(a.dir, "empty-patch");
    fs.mkdirSync(empty);
    expect((await steward(a.dir, "patch", "apply", empty)).stderr).toMatch(/invalid patch .*no patch.yaml/s);
    const typo = patch(a.dir, "typo", 'step: ["true"]\n');
    expect((await steward(a.dir, "patch", "apply", typo)).stderr).toMatch(
      /patch.yaml:3:1: .*did you mean `steps`\?/,
    );
    const needy = patch(a.dir, "needy", "requires: [base]\n");
    expect((await steward(a.dir, "patch", "apply", needy)).stderr).toMatch(
      /patch needy requires base, not applied to the patch edition/,
    );
    const evil = path.join(a.dir, "evil.tar.gz");
    const outside = path.join(a.dir, "outside.txt");
    fs.writeFileSync(outside, "x");
    const staging = path.join(a.dir, "evil");
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, "patch.yaml"), "id: evil\ndescription: escapes\n");
    execFileSync("tar", ["-czPf", evil, "-C", staging, "patch.yaml", outside]);
    const refused = await steward(a.dir, "patch", "apply", evil);
    expect(refused.stderr).toMatch(/refusing patch archive .*nothing was written/);
    expect(fs.existsSync(path.join(a.root, "fs_ne", "patches", "evil"))).toBe(false);
    let s = await patchStatus(a.dir);
    expect(s.open?.phases.apply?.state).toBe("failed");
    expect(s.open?.phases.prepare?.state).toBe("done");
    // A good archive, wrapped in one directory as `tar czf p.tgz dir/` makes it, applies.
    patch(a.dir, "packed", "", { "deep/new.txt": "from an archive\n" });
    execFileSync("tar", [
      "-czf",
      path.join(a.dir, "packed.tgz"),
      "-C",
      path.join(a.dir, "patches"),
      "packed",
    ]);
    const packed = await steward(a.dir, "patch", "apply", path.join(a.dir, "packed.tgz"));
    expect(packed.code, packed.stdout + packed.stderr).toBe(0);
    expect(fs.readFileSync(path.join(a.root, "fs2", "deep", "new.txt"), "utf8")).toBe("from an archive\n");
    s = await patchStatus(a.dir);
    expect(s.open?.phases.apply?.state).toBe("done");
  });

  it("a failing step fails apply with its log; the re-run resumes after the last completed step", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    expect((await steward(a.dir, "patch", "prepare")).code).toBe(0);
    const flag = path.join(a.dir, "flag");
    const p = patch(
      a.dir,
      "flaky",
      `steps:\n  - "node -e \\"require('fs').appendFileSync('count.txt','1')\\""\n  - "node -e \\"process.exit(require('fs').existsSync('${flag}') ? 0 : 3)\\""\n`,
    );
    const first = await steward(a.dir, "patch", "apply", p);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(
      /step 2 .* failed: exited with code 3; see .*fs_ne\/logs\/1\/apply\/flaky\/02-step\.log/,
    );
    fs.writeFileSync(flag, "");
    const second = await steward(a.dir, "patch", "apply", p);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resuming after step 1/);
    expect(fs.readFileSync(path.join(a.root, "fs2", "count.txt"), "utf8")).toBe("1");
  });

  it("prepare with `sync: delta` copies what changed in run minus `exclude`, then runs custom_sync in the patch edition", async () => {
    const a = await app(
      '  sync: delta\n  exclude: ["*.log"]\n  custom_sync: ["node -e \\"require(\'fs\').writeFileSync(\'synced.txt\', process.argv[1])\\" ${edition}"]\n',
    );
    expect((await steward(a.dir, "up")).code).toBe(0);
    // Changes made to run outside any patch (a hotfix by hand), and a log file that must stay put.
    fs.writeFileSync(path.join(a.root, "fs1", "hotfix.js"), "fixed\n");
    fs.writeFileSync(path.join(a.root, "fs1", "run.log"), "run's log\n");
    fs.writeFileSync(path.join(a.root, "fs2", "patch.log"), "patch's log\n");
    const prepare = await steward(a.dir, "patch", "prepare");
    expect(prepare.code, prepare.stdout + prepare.stderr).toBe(0);
    expect(prepare.stdout, prepare.stdout).toMatch(/sync delta: 1 copied, 0 deleted/);
    const fs2 = path.join(a.root, "fs2");
    expect(fs.readFileSync(path.join(fs2, "hotfix.js"), "utf8")).toBe("fixed\n");
    expect(fs.existsSync(path.join(fs2, "run.log"))).toBe(false);
    expect(fs.readFileSync(path.join(fs2, "patch.log"), "utf8")).toBe("patch's log\n");
    expect(fs.readFileSync(path.join(fs2, "synced.txt"), "utf8")).toBe(fs.realpathSync(fs2));
  });

  it("cutover waits for running jobs: refused with nothing changed, then --cancel-jobs; --no-restart leaves the components stopped", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    await prepareAndApply(a, patch(a.dir, "v3", "", { "version.txt": "3\n" }));
    expect((await steward(a.dir, "run", "long", "--detach")).code).toBe(0);
    const refused = await steward(a.dir, "patch", "cutover", "--wait-jobs", "300ms");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /1 job run\(s\) still running after 300ms .*nothing was changed: wait longer with `--wait-jobs`, or add `--cancel-jobs`/,
    );
    expect(links(a.root)).toEqual({ run: "fs1", patch: "fs2" });
    expect(await versions(a.port)).toEqual(new Set(["v1"]));
    const manual = await steward(
      a.dir,
      "patch",
      "cutover",
      "--wait-jobs",
      "100ms",
      "--cancel-jobs",
      "--no-restart",
    );
    expect(manual.code, manual.stdout + manual.stderr).toBe(0);
    expect(manual.stdout).toMatch(/cancelling 1 job run\(s\)/);
    expect(manual.stdout).toMatch(/stay stopped for your manual steps: start them with `steward start`/);
    expect(links(a.root)).toEqual({ run: "fs2", patch: "fs1" });
    const doc = await status(a.dir);
    expect(doc.components.flatMap((c) => c.replicas.map((r) => r.state))).toEqual([
      "stopped",
      "stopped",
      "stopped",
    ]);
    expect((await steward(a.dir, "start")).code).toBe(0);
    expect(await versions(a.port)).toEqual(new Set(["v3"]));
  });

  it("prepare refuses when the disk is too small", async () => {
    const a = await app("  disk_margin: 900000GB\n");
    expect((await steward(a.dir, "up")).code).toBe(0);
    const prepare = await steward(a.dir, "patch", "prepare");
    expect(prepare.code).toBe(1);
    expect(prepare.stderr).toMatch(/not enough free space under .*editions/);
    expect((await patchStatus(a.dir)).open).toBeNull();
  });

  it("a new edition that never becomes ready rolls back: the old replicas keep serving, the links stay", async () => {
    const a = await app();
    expect((await steward(a.dir, "up")).code).toBe(0);
    const before = (await status(a.dir)).components.find((c) => c.name === "web")!.replicas.map((r) => r.pid);
    await prepareAndApply(a, patch(a.dir, "broken", "", { "never-ready": "", "version.txt": "9\n" }));
    const cutover = await steward(a.dir, "patch", "cutover");
    expect(cutover.code).toBe(1);
    expect(cutover.stdout).toMatch(/rolled back: web\[\d\] did not become ready on the new edition/);
    expect(links(a.root)).toEqual({ run: "fs1", patch: "fs2" });
    const web = (await status(a.dir)).components.find((c) => c.name === "web")!.replicas;
    expect(web.map((r) => [r.state, r.pid])).toEqual(before.map((pid) => ["ready", pid]));
    expect(await versions(a.port)).toEqual(new Set(["v1"]));
    const s = await patchStatus(a.dir);
    expect(s.open).toMatchObject({ id: 1, status: "cutover-rolled-back" });
    expect((await steward(a.dir, "patch", "abort")).code).toBe(0);
  });

  for (const at of ["start-new", "restart-on-new", "switch", "retire-old", "swap-links"]) {
    it(`SIGKILL of the daemon at cutover step ${at}: the next daemon finishes or rolls back, never both editions serving`, async () => {
      const a = await app();
      expect((await steward(a.dir, "up")).code).toBe(0);
      await prepareAndApply(
        a,
        patch(a.dir, "slow-v2", "", { "version.txt": "2\n", "ready-delay.txt": "300\n" }),
      );
      const cutover = stewardWith({ timeoutMs: 30_000 }, a.dir, "patch", "cutover");
      const { daemon } = await status(a.dir);
      const db = openStateDb(a.dir);
      try {
        await waitFor(
          `cutover step ${at}`,
          () => db.prepare("SELECT 1 FROM operation_steps WHERE name = ?").get(at) !== undefined,
          20_000,
          2,
        );
      } finally {
        db.close();
      }
      process.kill(daemon.pid, "SIGKILL");
      await waitFor("the daemon to die", () => !alive(daemon.pid));
      // Where the kill landed, from the journal: on a loaded machine the cutover may have gone past
      // the step the test waited for before the signal arrived.
      const journal = openStateDb(a.dir);
      const reached = (journal.prepare("SELECT name FROM operation_steps").all() as { name: string }[]).map(
        (r) => r.name,
      );
      journal.close();
      const pastSwitch = ["switch", "retire-old", "swap-links"].some((x) => reached.includes(x));
      await cutover;
      const up = await steward(a.dir, "up");
      expect(up.code, up.stdout + up.stderr).toBe(0);
      await waitFor(
        "the cutover to end",
        async () => (await status(a.dir)).daemon.state === "active",
        20_000,
      );
      const s = await patchStatus(a.dir);
      const session = s.open ?? s.history[0]!;
      const web = (await status(a.dir)).components.find((c) => c.name === "web")!.replicas;
      expect(web.map((r) => r.state)).toEqual(["ready", "ready"]);
      const seen = await versions(a.port, 10);
      if (session.status === "completed") {
        expect(links(a.root)).toEqual({ run: "fs2", patch: "fs1" });
        expect(seen).toEqual(new Set(["v2"]));
      } else {
        expect(session.status).toBe("cutover-rolled-back");
        expect(links(a.root)).toEqual({ run: "fs1", patch: "fs2" });
        expect(seen).toEqual(new Set(["v1"]));
      }
      // Killed before the switch, the cycle rolls back; from the switch on, it rolls forward.
      expect(session.status, `steps journaled at the kill: ${reached.join(", ")}`).toBe(
        pastSwitch ? "completed" : "cutover-rolled-back",
      );
      if (["switch", "retire-old", "swap-links"].includes(at)) expect(pastSwitch).toBe(true);
    });
  }
});
