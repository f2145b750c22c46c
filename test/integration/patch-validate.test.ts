/**
 * `steward patch validate [patch…]` (issue 12 §3) with a real daemon and real editions on disk:
 * every check listed and exit 0 when all is well; a manifest typo located with did-you-mean, a
 * `requires` not met, a session where neither prepare nor cutover can start, a phase running, a
 * half-done swap and a stopped daemon each exit 1 saying why; a missing path exits 2 (the API
 * answers 400) — and nothing changes: the editions (every file, the links), the patch sessions and
 * what each edition holds are identical before and after. On a cluster: a node whose daemon was
 * killed, a node on another topology (drift) and a store cut off are each named.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { daemonPid, TestCluster } from "../cluster/nodes.js";
import { editionApp, type EditionApp } from "./edition-app.js";
import { api, fixture, project, steward, waitFor } from "./helpers.js";

/** Writes a patch directory `<dir>/patches/<id>` with `patch.yaml` as given and returns its path. */
function patchDir(dir: string, id: string, yaml: string, files: Record<string, string> = {}): string {
  const p = path.join(dir, "patches", id);
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), yaml);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(p, "files", name), text);
  return p;
}

/** Every file and link under the patch root (but scratch `fs_ne/tmp`), with its content's hash. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = path.join(rel, name);
      if (r === path.join("fs_ne", "tmp")) continue;
      const st = fs.lstatSync(path.join(root, r));
      if (st.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(path.join(root, r))}`);
      else if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(r);
      } else
        out.push(
          `${r} ${st.size} ${st.mtimeMs} ${createHash("sha256")
            .update(fs.readFileSync(path.join(root, r)))
            .digest("hex")}`,
        );
    }
  };
  walk("");
  return out;
}

/** What validate must not change: the editions on disk, the sessions, what each edition holds. */
async function snapshot(a: EditionApp): Promise<unknown> {
  const status = await steward(a.dir, "patch", "status", "--json");
  const history = await steward(a.dir, "patch", "history", "--json");
  expect(status.code, status.stderr).toBe(0);
  const s = JSON.parse(status.stdout) as { open: unknown; history: unknown };
  return {
    tree: tree(a.root),
    tmp: fs.readdirSync(path.join(a.root, "fs_ne", "tmp")),
    open: s.open,
    sessions: s.history,
    history: JSON.parse(history.stdout) as unknown,
  };
}

interface Answer {
  ok: boolean;
  records: { check: string; ok: boolean; detail: string }[];
}

async function validateJson(
  dir: string,
  ...patches: string[]
): Promise<{ code: number | null; answer: Answer }> {
  const r = await steward(dir, "patch", "validate", "--json", ...patches);
  return { code: r.code, answer: JSON.parse(r.stdout) as Answer };
}

describe("patch validate", () => {
  it("all well: every check listed, exit 0; a typo, an unmet requires and a missing path are refused; nothing changes", async () => {
    const a = await editionApp({ name: "validated", readyWithin: "5s" });
    const base = patchDir(a.dir, "base-fix", "id: base-fix\ndescription: the base fix\n", {
      "base.txt": "b\n",
    });
    const v2 = patchDir(
      a.dir,
      "v2",
      'id: v2\ndescription: version 2\nrequires: [base-fix]\nsteps: ["node -e 0"]\n',
      { "version.txt": "2\n" },
    );
    // An archive is staged where apply stages it (fs_ne/tmp), and removed again.
    const archive = path.join(a.dir, "patches", "v3.tar.gz");
    patchDir(a.dir, "v3", "id: v3\ndescription: version 3\nrequires: [v2]\n");
    execFileSync("tar", ["czf", archive, "-C", path.join(a.dir, "patches"), "v3"]);
    const before = await snapshot(a);

    const r = await steward(a.dir, "patch", "validate", base, v2, archive);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.replace(/: .*/s, ""))).toEqual([
      "ok   daemon",
      "ok   patching",
      "ok   editions",
      "ok   disk space",
      "ok   store",
      "ok   phase lock",
      "ok   session",
      `ok   patch ${base}`,
      "ok   requires of base-fix",
      `ok   patch ${v2}`,
      "ok   requires of v2",
      `ok   patch ${archive}`,
      "ok   requires of v3",
      "all 13 checks passed",
    ]);
    expect(r.stdout).toMatch(/ok {3}editions: run → fs1, patch → fs2/);
    expect(r.stdout).toMatch(
      /ok {3}disk space: need \d+\.\d MB \(run edition \d+\.\d MB \+ disk_margin 64\.0 MB\), \d+\.\d MB free/,
    );
    expect(r.stdout).toMatch(/ok {3}session: no session is open; prepare can start now/);
    expect(r.stdout).toMatch(/ok {3}requires of v2: satisfied: base-fix \(earlier in this list\)/);
    expect(r.stdout).toMatch(/ok {3}requires of v3: satisfied: v2 \(earlier in this list\)/);

    // A manifest typo: located at file:line:column, with did-you-mean; the others still checked.
    const typo = patchDir(a.dir, "typo", 'id: typo\ndescription: a typo\nstpes: ["node -e 0"]\n');
    const t = await steward(a.dir, "patch", "validate", typo, base);
    expect(t.code, t.stdout + t.stderr).toBe(1);
    expect(t.stdout).toContain(`FAIL patch ${typo}: invalid patch ${typo}`);
    expect(t.stdout).toContain(`${path.join(typo, "patch.yaml")}:3:1`);
    expect(t.stdout).toMatch(/did you mean `steps`\?/);
    expect(t.stdout).toContain(`ok   patch ${base}`);
    expect(t.stdout).toMatch(/1 of \d+ checks failed/);

    // A `requires` neither the edition holds nor an earlier patch in the list.
    const j = await validateJson(a.dir, v2);
    expect(j.code).toBe(1);
    expect(j.answer.ok).toBe(false);
    expect(j.answer.records.filter((x) => !x.ok)).toEqual([
      {
        check: "requires of v2",
        ok: false,
        detail: expect.stringMatching(
          /^patch v2 requires base-fix, not applied to the patch edition/,
        ) as string,
      },
    ]);

    // The API refuses a body it cannot use with 400, checking nothing.
    for (const [body, message] of [
      ['{"patches": ["patches/v2"]}', /patch patches\/v2: expected an absolute path/],
      ['{"patch": []}', /unknown key `patch`; it takes patches/],
      ['{"patches": [1]}', /`patches` must be a list of non-empty strings/],
      [`{"patches": [${JSON.stringify(path.join(a.dir, "nope"))}]}`, /no such file or directory/],
    ] as const) {
      const res = await api(a.dir, "POST", "/v1/patch/validate", body);
      expect(res.status, res.body).toBe(400);
      expect(res.body).toMatch(message);
    }

    // Bad input: a path that does not exist exits 2, asking the daemon nothing.
    const missing = await steward(a.dir, "patch", "validate", "patches/nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/patch patches\/nope: no such file or directory/);

    expect(await snapshot(a)).toEqual(before);
  });

  it("during an open session it says which phase is next, and a half-done swap is reported, not repaired", async () => {
    const a = await editionApp({ name: "midcycle", readyWithin: "5s" });
    const base = patchDir(a.dir, "base-fix", "id: base-fix\ndescription: the base fix\n", {
      "base.txt": "b\n",
    });
    const v2 = patchDir(a.dir, "v2", "id: v2\ndescription: version 2\nrequires: [base-fix]\n");
    expect((await steward(a.dir, "patch", "prepare")).code).toBe(0);
    // After prepare, with patches named, apply is next: fine; requires are read from fs2's record.
    const ready = await validateJson(a.dir, base);
    expect(ready.answer.records.find((x) => x.check === "session")).toEqual({
      check: "session",
      ok: true,
      detail: "patch session 1 is open (prepare done); apply can start now",
    });
    expect(ready.code).toBe(0);
    const apply = await steward(a.dir, "patch", "apply", base);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const before = await snapshot(a);

    // Neither prepare nor cutover can start; with no patch named, apply is not what is asked.
    const r = await steward(a.dir, "patch", "validate");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(
      "FAIL session: patch session 1 is open (prepare done, apply done); prepare cannot start (a cycle is already open: patch session 1 is open (prepare done, apply done)), nor cutover (session 1 is not finalized); next: `steward patch finalize`",
    );
    expect(r.stdout.match(/^FAIL/gm)).toHaveLength(1);
    // With a patch named, another apply can start; base-fix is held by the patch edition now.
    const more = await steward(a.dir, "patch", "validate", v2);
    expect(more.code, more.stdout).toBe(0);
    expect(more.stdout).toContain(
      "ok   session: patch session 1 is open (prepare done, apply done); apply can start now",
    );
    expect(more.stdout).toContain(
      "ok   requires of v2: satisfied: base-fix (held by the patch edition (fs2))",
    );
    expect(await snapshot(a)).toEqual(before);

    expect((await steward(a.dir, "patch", "finalize")).code).toBe(0);
    const fin = await steward(a.dir, "patch", "validate");
    expect(fin.code, fin.stdout).toBe(0);
    expect(fin.stdout).toMatch(
      /ok {3}session: patch session 1 is open \(prepare done, apply done, finalize done\); cutover can start now/,
    );

    // Both links at one edition (a swap a crash cut in half): reported; the link is left as it is.
    const link = path.join(a.root, "patch");
    fs.unlinkSync(link);
    fs.symlinkSync("fs1", link);
    const half = await steward(a.dir, "patch", "validate");
    expect(half.code).toBe(1);
    expect(half.stdout).toMatch(
      /FAIL editions: patching root .*: `run` and `patch` both point at fs1: a swap was cut in half/,
    );
    expect(fs.readlinkSync(link)).toBe("fs1");
  });

  it("beside a running phase it takes no lock, and says which phase runs", async () => {
    const a = await editionApp({ name: "locked", readyWithin: "5s" });
    const slow = patchDir(a.dir, "slow", 'id: slow\ndescription: a slow step\nsteps: ["sleep 4"]\n');
    expect((await steward(a.dir, "patch", "prepare")).code).toBe(0);
    const apply = steward(a.dir, "patch", "apply", slow);
    await waitFor("apply running", async () => {
      const s = await steward(a.dir, "patch", "status", "--json");
      const open = (JSON.parse(s.stdout) as { open: { phases: Record<string, { state: string }> } | null })
        .open;
      return open?.phases.apply?.state === "running";
    });
    const r = await steward(a.dir, "patch", "validate");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(
      "FAIL phase lock: `patch apply` is running; wait for it to finish (`steward patch status` shows its progress)",
    );
    expect(r.ms).toBeLessThan(4000);
    const applied = await apply;
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const after = await steward(a.dir, "patch", "validate");
    expect(after.stdout).toContain("ok   phase lock: free: no patch phase is running");
  });

  it("without patching configured, or without a daemon, it says so and exits 1", async () => {
    const dir = project(`
name: plain
components:
  web: { command: sleep 60 }
`);
    expect((await steward(dir, "up")).code).toBe(0);
    const r = await steward(dir, "patch", "validate");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL patching: .*steward\.yaml has no `patching` section/);
    expect((await steward(dir, "down")).code).toBe(0);
    const none = await steward(dir, "patch", "validate");
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(
      /^FAIL daemon: no steward daemon is listening on .*; run `steward up` to start one; validate asks the daemon for every other check\n1 of 1 checks failed\n$/,
    );
  });
});

describe("patch validate on a cluster", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
  });

  it("every node up and on the primary's digest; a node in drift, a killed node and a store cut off are named", async () => {
    // `patching:` closes the components the cluster fixture writes: the same section on every node.
    c = await TestCluster.create(
      "pvalidate",
      3,
      `  web:\n    command: node server.js\n    env: { PORT: "0" }\npatching:\n  root: editions\n`,
    );
    for (const n of c.nodes) {
      fs.cpSync(fixture("edition-app"), path.join(n.dir, "app"), { recursive: true });
      const init = await steward(n.dir, "patch", "init", "--from", "app");
      expect(init.code, init.stderr).toBe(0);
    }
    for (const n of c.nodes) expect((await c.up(n.name)).code).toBe(0);
    await waitFor("3 nodes up with a primary", async () => {
      const v = await c!.view("n1").catch(() => undefined);
      return v?.primary != null && v.nodes.filter((n) => n.state === "up").length === 3;
    });
    const ok = await steward(c.node("n1").dir, "patch", "validate");
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok {3}cluster nodes: 3 up: n1, n2, n3/);
    expect(ok.stdout).toMatch(/ok {3}topology digest: every node on the primary n\d's topology/);

    // n2 restarted on a different topology: in drift from the primary, named.
    const n2 = c.node("n2");
    expect((await steward(n2.dir, "down")).code).toBe(0);
    const yaml = fs.readFileSync(path.join(n2.dir, "steward.yaml"), "utf8");
    fs.writeFileSync(path.join(n2.dir, "steward.yaml"), yaml.replace('PORT: "0"', 'PORT: "0", EXTRA: "1"'));
    expect((await c.up("n2")).code).toBe(0);
    await waitFor("n2 up again", async () => {
      const v = await c!.view("n1").catch(() => undefined);
      return v?.nodes.find((n) => n.name === "n2")?.state === "up";
    });
    const drift = await steward(c.node("n1").dir, "patch", "validate");
    expect(drift.code, drift.stdout + drift.stderr).toBe(1);
    expect(drift.stdout).toMatch(
      /FAIL topology digest: n2 \([0-9a-f]{12}\) not on the primary n\d's topology/,
    );
    expect(drift.stdout.match(/^FAIL/gm)).toHaveLength(1);
    fs.writeFileSync(path.join(n2.dir, "steward.yaml"), yaml);

    process.kill(daemonPid(c.node("n3").dir)!, "SIGKILL");
    await waitFor("n3 down", async () => {
      const v = await c!.view("n1").catch(() => undefined);
      return v?.nodes.find((n) => n.name === "n3")?.state === "down";
    });
    const r = await steward(c.node("n1").dir, "patch", "validate");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL cluster nodes: n3 is down \(last heartbeat \d+\.\d s ago\); every node must be up/,
    );
    expect(r.stdout).toMatch(/FAIL topology digest: n2 /);

    // n1's store cut off: the store check fails within its 5 s, and says so.
    c.node("n1").relay.cut();
    const cut = await steward(c.node("n1").dir, "patch", "validate");
    c.node("n1").relay.restore();
    expect(cut.code, cut.stdout + cut.stderr).toBe(1);
    expect(cut.stdout).toMatch(/FAIL store: .*`steward status` shows the store's state/);
    expect(cut.stdout).toMatch(/FAIL cluster nodes: cannot read the cluster's nodes/);
  });
});
