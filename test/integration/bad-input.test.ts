// Bad input of every kind is answered clearly — exit code, location, suggestion — while what runs
// keeps running, the state database stays sound and no process is left behind.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  api,
  freePort,
  homeOf,
  integrityCheck,
  logOf,
  node,
  project,
  replica,
  socketOf,
  status,
  steward,
  stewardWith,
  writeTopology,
  type StatusDocument,
} from "./helpers.js";

const VALID = `
components:
  a:
    command: ${node("forever.js")}
  b:
    command: ${node("forever.js")}
    depends_on: [a]
`;

/** What runs, per replica: state and pid. */
const snapshot = (doc: StatusDocument): string[] =>
  doc.components.flatMap((c) => c.replicas.map((r) => `${c.name}[${r.index}] ${r.state} ${r.pid}`));

/** A running project with `VALID`; returns the dir and what runs. */
async function running(): Promise<{ dir: string; before: string[] }> {
  const dir = project(VALID);
  const up = await steward(dir, "up");
  expect(up.code, up.stdout + up.stderr).toBe(0);
  const before = snapshot(await status(dir));
  expect(before).toEqual([
    expect.stringMatching(/^a\[0\] ready \d+$/),
    expect.stringMatching(/^b\[0\] ready \d+$/),
  ]);
  return { dir, before };
}

/** Nothing that ran was disturbed and the state database is sound. */
async function expectIntact(dir: string, before: string[]): Promise<void> {
  const doc = await status(dir);
  expect(doc.daemon.state).toBe("active");
  expect(snapshot(doc)).toEqual(before);
  expect(integrityCheck(dir)).toBe("ok");
}

describe("bad topology files", () => {
  const cases: [what: string, yaml: string, expected: RegExp[]][] = [
    [
      "a misspelt key",
      `
components:
  a:
    command: ${node("forever.js")}
  b:
    command: ${node("forever.js")}
    depnds_on: [a]
`,
      [/steward\.yaml:7:5: `components\.b\.depnds_on`: unknown key `depnds_on`; did you mean `depends_on`\?/],
    ],
    [
      "a value of the wrong type",
      `
components:
  a:
    command: ${node("forever.js")}
    replicas: two
    stop: { grace: 30 }
`,
      [
        /steward\.yaml:5:15: `components\.a\.replicas`: expected a whole number .*got `two` \(string\)/,
        /steward\.yaml:6:20: `components\.a\.stop\.grace`: expected a duration like `30s`, got `30` \(number\)/,
      ],
    ],
    [
      "a dependency on a missing component",
      `
components:
  a:
    command: ${node("forever.js")}
  b:
    command: ${node("forever.js")}
    depends_on: [a, bb]
`,
      [
        /steward\.yaml:7:21: `components\.b\.depends_on\[1\]`: depends on `bb`, which is not a component; did you mean `b`\?/,
      ],
    ],
    [
      "a dependency cycle",
      `
components:
  a:
    command: ${node("forever.js")}
    depends_on: [b]
  b:
    command: ${node("forever.js")}
    depends_on: [a]
`,
      [/dependency cycle: a → b → a/],
    ],
  ];

  it.each(cases)(
    "%s: `validate` and `up` exit 2 with the location; a fresh project gets no daemon",
    async (_what, yaml, expected) => {
      const dir = project(yaml);
      for (const command of ["validate", "up"]) {
        const res = await steward(dir, command);
        expect(res.code, `${command}: ${res.stdout}${res.stderr}`).toBe(2);
        for (const re of expected) expect(res.stderr, command).toMatch(re);
      }
      expect(fs.existsSync(homeOf(dir)), "nothing was created").toBe(false);
    },
  );

  it.each(cases)(
    "%s: refused while a daemon runs, which keeps running undisturbed",
    async (_what, yaml, expected) => {
      const { dir, before } = await running();
      writeTopology(dir, yaml);
      try {
        for (const command of ["validate", "up"]) {
          const res = await steward(dir, command);
          expect(res.code, `${command}: ${res.stdout}${res.stderr}`).toBe(2);
          for (const re of expected) expect(res.stderr, command).toMatch(re);
        }
        await expectIntact(dir, before);
      } finally {
        writeTopology(dir, VALID);
      }
    },
  );
});

describe("bad commands", () => {
  it("an unknown CLI command exits non-zero with a suggestion", async () => {
    const dir = project(VALID);
    const res = await steward(dir, "stauts");
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("unknown command 'stauts'");
    expect(res.stderr).toContain("Did you mean status?");
  });

  it("`stop` of an unknown component exits 2, lists the known ones and stops nothing", async () => {
    const { dir, before } = await running();
    const res = await steward(dir, "stop", "nope");
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toContain("unknown component `nope`");
    expect(res.stderr).toContain("the topology declares: a, b");
    const near = await steward(dir, "stop", "bb");
    expect(near.code).toBe(2);
    expect(near.stderr).toContain("did you mean `b`?");
    await expectIntact(dir, before);
  });

  it("a second `steward daemon` on the same home is refused, naming the running pid", async () => {
    const { dir, before } = await running();
    const pid = (await status(dir)).daemon.pid;
    const res = await stewardWith({ timeoutMs: 10_000 }, dir, "daemon");
    expect(res.code, res.stdout + res.stderr).not.toBe(0);
    expect(res.code, "refused, not killed by the test's timeout").not.toBeNull();
    expect(res.stderr).toContain(`already running on ${homeOf(dir)} (pid ${pid})`);
    expect(fs.readFileSync(path.join(homeOf(dir), "daemon.pid"), "utf8").trim()).toBe(String(pid));
    expect(fs.statSync(socketOf(dir)).isSocket()).toBe(true);
    expect((await status(dir)).daemon.pid).toBe(pid);
    await expectIntact(dir, before);
  });
});

describe("programs that cannot run", () => {
  it("a command that does not exist: the replica is failed, the reason says not found, `status` shows it", async () => {
    const dir = project(`
components:
  ghost:
    command: no-such-program-xyz --serve
`);
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(1);
    expect(up.stdout).toMatch(/✗ ghost: .*not found/);
    const r = await replica(dir, "ghost");
    expect(r).toMatchObject({ state: "failed", pid: null });
    expect(r.reason).toMatch(/`no-such-program-xyz` not found/);
    const st = await steward(dir, "status");
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/ghost\s+0\s+failed\s.*not found/);
    expect(integrityCheck(dir)).toBe("ok");
  });

  it("a file that is not executable: the replica is failed with EACCES in the reason", async () => {
    const dir = project(`
components:
  script:
    command: ./script.sh
`);
    fs.writeFileSync(path.join(dir, "script.sh"), "#!/bin/sh\nexec sleep 60\n", { mode: 0o644 });
    const up = await steward(dir, "up");
    expect(up.code, up.stdout + up.stderr).toBe(1);
    const r = await replica(dir, "script");
    expect(r).toMatchObject({ state: "failed", pid: null });
    expect(r.reason).toContain("EACCES");
    expect(r.reason).toContain("script.sh");
    expect(integrityCheck(dir)).toBe("ok");
  });

  it("a tcp readiness port already held by another program: failed with `already in use by pid …`, never spawned", async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      const dir = project(`
components:
  web:
    command: ${node("forever.js")}
    ready: { tcp: ${port}, within: 5s }
`);
      const up = await steward(dir, "up");
      expect(up.code, up.stdout + up.stderr).toBe(1);
      const r = await replica(dir, "web");
      expect(r).toMatchObject({ state: "failed", pid: null });
      expect(r.reason).toContain(`port ${port} is already in use by pid ${process.pid}`);
      expect(up.stdout).toContain(`already in use by pid ${process.pid}`);
      expect(fs.existsSync(logOf(dir, "web")), "the program was not spawned").toBe(false);
      expect(integrityCheck(dir)).toBe("ok");
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe("bad requests on the control socket", () => {
  it("malformed JSON and an unknown body key answer 400 with {error: {code, message}}; nothing is stopped", async () => {
    const { dir, before } = await running();

    const malformed = await api(dir, "POST", "/v1/stop", '{"components": [');
    expect(malformed.status).toBe(400);
    expect(malformed.headers["content-type"]).toMatch(/application\/json/);
    expect(JSON.parse(malformed.body)).toMatchObject({
      error: { code: "STW-1006", message: expect.stringContaining("not valid JSON") },
    });

    const unknownKey = await api(dir, "POST", "/v1/stop", '{"component": ["a"]}');
    expect(unknownKey.status).toBe(400);
    expect(JSON.parse(unknownKey.body)).toMatchObject({
      error: { code: "STW-1006", message: expect.stringContaining("component") },
    });

    const wrongType = await api(dir, "POST", "/v1/stop", '{"components": "a"}');
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body)).toMatchObject({
      error: { code: "STW-1006", message: expect.any(String) },
    });

    await expectIntact(dir, before);
  });
});

describe("bad numbers and durations on the command line exit 2, naming the option and its range", () => {
  const TWO = `
components:
  a:
    command: ${node("forever.js")}
    replicas: 2
`;
  const cases: [args: string[], message: string][] = [
    [["logs", "a", "-n", "-1"], "-n expects a whole number from 0 to 1000000, got `-1`"],
    [["logs", "a", "-n", "1.5"], "-n expects a whole number from 0 to 1000000, got `1.5`"],
    [["logs", "a", "-n", "ten"], "-n expects a whole number from 0 to 1000000, got `ten`"],
    [["logs", "a", "-n", "1e3"], "-n expects a whole number from 0 to 1000000, got `1e3`"],
    [["logs", "a", "-n", "99999999999"], "-n expects a whole number from 0 to 1000000, got `99999999999`"],
    [["logs", "a", "--replica", "-1"], "--replica expects a replica index of a from 0 to 1, got `-1`"],
    [["logs", "a", "--replica", "2"], "--replica expects a replica index of a from 0 to 1, got `2`"],
    [["logs", "a", "--replica", "0x1"], "--replica expects a replica index of a from 0 to 1, got `0x1`"],
    [
      ["maintenance", "on", "--wait", "-5s"],
      "--wait expects a duration like 30s or 5m, got `-5s`: a duration cannot be negative",
    ],
    [
      ["maintenance", "on", "--wait", "30"],
      "--wait expects a duration like 30s or 5m, got `30`: it has no unit (write `30s` or `30ms`)",
    ],
    [
      ["maintenance", "on", "--wait", "25d"],
      "--wait expects a duration like 30s or 5m, got `25d`: unknown unit `d` (use ms, s, m or h)",
    ],
    [
      ["maintenance", "on", "--wait", "600h"],
      "--wait expects a duration like 30s or 5m, got `600h`: it is longer than a timer can wait (about 24 days)",
    ],
    [["maintenance", "on", "--wait", "5s", "--cancel"], "give --wait or --cancel, not both"],
    [["patch", "cutover", "--wait-jobs", "-1s"], "--wait-jobs expects a duration like 30s or 5m"],
    [["daemon", "bogus"], "unknown daemon action `bogus`; expected `restart` or nothing"],
  ];

  it.each(cases)("steward %j: exit 2 with the message; what runs is left alone", async (args, message) => {
    const dir = project(TWO);
    const res = await steward(dir, ...args);
    expect(res.code, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toContain(`steward: ${message}`);
    expect(fs.existsSync(socketOf(dir)), "no daemon was started").toBe(false);
  });

  it("the same values while a daemon runs: exit 2, nothing changes", async () => {
    const { dir, before } = await running();
    for (const [args] of cases.filter(([a]) => a[0] === "maintenance")) {
      const res = await steward(dir, ...args);
      expect(res.code, `${args.join(" ")}: ${res.stderr}`).toBe(2);
    }
    const ok = await steward(dir, "logs", "a", "-n", "0", "--replica", "0");
    expect(ok.code, ok.stderr).toBe(0);
    await expectIntact(dir, before);
  });
});
