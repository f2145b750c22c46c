import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DependencyCycleError,
  TopologyError,
  TopologyReadError,
  type TopologyIssue,
} from "../../src/errors.js";
import { loadTopology, type LoadOptions } from "../../src/topology/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The error a load throws. */
function loadError(file: string, opts: LoadOptions = { env: {} }): unknown {
  try {
    loadTopology(file, opts);
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${file} to fail to load`);
}

/** The issues of the TopologyError a fixture fails with, as `[line, column, path, message]`. */
function issuesOf(name: string, opts?: LoadOptions): [number, number, string, string][] {
  const err = loadError(fixture(name), opts);
  expect(err).toBeInstanceOf(TopologyError);
  const issues = (err as TopologyError).issues;
  const file = relative(process.cwd(), fixture(name));
  for (const i of issues) expect(i.file).toBe(file);
  return issues.map((i: TopologyIssue) => [i.line, i.column, i.path, i.message]);
}

/** A topology file in a fresh temporary directory. */
function tempTopology(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "steward-topology-")), "steward.yaml");
  writeFileSync(file, text);
  return file;
}

describe("loadTopology: every problem at file:line:column with its key path", () => {
  it("names a misspelt key and the nearest valid one, or lists the valid keys", () => {
    expect(issuesOf("misspelt-key.yaml")).toEqual([
      [7, 5, "components.engine.depnds_on", "unknown key `depnds_on`; did you mean `depends_on`?"],
      [8, 5, "components.engine.stopp", "unknown key `stopp`; did you mean `stop`?"],
      [
        9,
        5,
        "components.engine.frobnicate",
        "unknown key `frobnicate`; valid keys here: command, cwd, env, replicas, depends_on, ready, health, stop, drain, recover, reseed, restart, offline_code, min_available, logs, placement",
      ],
    ]);
  });

  it("says what type was expected and what was received", () => {
    expect(issuesOf("wrong-type.yaml")).toEqual([
      [4, 15, "components.engine.replicas", "expected a whole number ≥ 1, got a list"],
      [5, 10, "components.engine.env", "expected a mapping, got `PORT=8080` (string)"],
      [7, 14, "components.engine.stop.grace", "expected a duration like `30s`, got `30` (number)"],
    ]);
  });

  it("explains a bad duration", () => {
    expect(issuesOf("bad-duration.yaml")).toEqual([
      [
        4,
        20,
        "components.engine.stop.grace",
        "expected a duration like `30s`, got `30x` (string): unknown unit `x` (use ms, s, m or h)",
      ],
      [5, 38, "components.engine.ready.within", "expected a duration like `30s`, got `1.5` (number)"],
    ]);
  });

  it("reports a dependency on a component that does not exist, in both forms of depends_on", () => {
    expect(issuesOf("unknown-dependency.yaml")).toEqual([
      [
        6,
        19,
        "components.engine.depends_on.stor",
        "depends on `stor`, which is not a component; did you mean `store`?",
      ],
      [9, 26, "components.scheduler.depends_on[1]", "depends on `queue`, which is not a component"],
    ]);
  });

  it("reports a route to a component that does not exist", () => {
    expect(issuesOf("unknown-route.yaml")).toEqual([
      [8, 37, "routes[0].to", "routes to `engin`, which is not a component; did you mean `engine`?"],
      [
        9,
        41,
        "routes[1].to",
        "routes to `report`, which is not a component; it is a job, and routes go to components",
      ],
    ]);
  });

  it("reports a YAML syntax error where the parser found it", () => {
    // Written at run time: a fixture file with a syntax error would break `prettier --check .`.
    const file = tempTopology(
      "name: shop\ncomponents:\n  engine:\n    command: [node, engine.js\n    replicas: 2\n",
    );
    expect((loadError(file) as TopologyError).issues).toEqual([
      {
        file,
        line: 5,
        column: 5,
        path: "",
        message:
          "YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
      },
    ]);
  });

  it("reports an unset environment variable without a default", () => {
    const unset = (name: string): string =>
      `environment variable \`${name}\` is not set; set it or give a default: \`\${${name}:-value}\``;
    expect(issuesOf("unset-env.yaml")).toEqual([
      [3, 14, "components.engine.command", unset("DATABASE_URL")],
      [6, 14, "components.engine.env.TOKEN", unset("API_TOKEN")],
    ]);
    expect(
      loadTopology(fixture("unset-env.yaml"), { env: { DATABASE_URL: "pg", API_TOKEN: "t" } }).components[0]
        ?.env,
    ).toEqual({
      REGION: "eu-west-1",
      TOKEN: "t",
    });
  });

  it("reports several problems of different kinds together, in file order", () => {
    expect(issuesOf("many-problems.yaml")).toEqual([
      [5, 20, "components.store.stop.grace", "expected a duration like `30s`, got `30` (number)"],
      [8, 15, "components.engine.replicas", "expected a whole number ≥ 1, got `two` (string)"],
      [9, 5, "components.engine.depnds_on", "unknown key `depnds_on`; did you mean `depends_on`?"],
      [
        10,
        20,
        "components.engine.ready.http",
        "expected a path like `/healthz` or a URL like `http://127.0.0.1:${port}/healthz`, got `healthz` (string)",
      ],
      [
        12,
        14,
        "components.web.command",
        "environment variable `DB_URL` is not set; set it or give a default: `${DB_URL:-value}`",
      ],
      [
        13,
        19,
        "components.web.depends_on.stor",
        "depends on `stor`, which is not a component; did you mean `store`?",
      ],
      [
        13,
        40,
        "components.web.depends_on.engine",
        "expected one of `started`, `ready`, `completed`, got `redy` (string); did you mean `ready`?",
      ],
      [
        14,
        21,
        "components.web.stop.signal",
        "expected a signal name like `SIGTERM`, got `TERM` (string); did you mean `SIGTERM`?",
      ],
      [
        15,
        25,
        "components.web.restart.backoff",
        "expected a backoff like `100ms..30s`, got `1s..100ms` (string): the first delay is longer than the longest",
      ],
      [15, 43, "components.web.restart.limit", "expected a limit like `5 in 60s`, got `five` (string)"],
      [
        16,
        23,
        "components.web.logs.max_size",
        "expected a size like `10MB` or `512KiB`, got `10XB` (string): unknown unit `XB` (use B, KB, MB, GB, KiB, MiB or GiB)",
      ],
      [17, 3, "components.worker.command", "missing required key `command`"],
      [
        18,
        10,
        "components.worker.cwd",
        "`${port}` is only available in a component's command, env, ready, health, drain and recover",
      ],
      [20, 37, "routes[0].to", "routes to `engin`, which is not a component; did you mean `engine`?"],
      [
        21,
        15,
        "routes[1].listen",
        "expected a port like `8080` or an address and port like `127.0.0.1:8080`, got `99999` (number)",
      ],
      [21, 28, "routes[1].path", "expected a path starting with `/`, got `api` (string)"],
      [21, 51, "routes[1].balance", "expected one of `round-robin`, `least-conn`, got `random` (string)"],
      [22, 1, "cluster", "a cluster shares one PostgreSQL store: set `store: postgres://user@host:5432/db`"],
    ]);
  });

  it("renders the issues into the error message, one per line", () => {
    const err = loadError(fixture("bad-duration.yaml")) as TopologyError;
    const file = relative(process.cwd(), fixture("bad-duration.yaml"));
    expect(err.code).toBe("STW-1001");
    expect(err.message).toBe(
      [
        "invalid topology:",
        `  ${file}:4:20: \`components.engine.stop.grace\`: expected a duration like \`30s\`, got \`30x\` (string): unknown unit \`x\` (use ms, s, m or h)`,
        `  ${file}:5:38: \`components.engine.ready.within\`: expected a duration like \`30s\`, got \`1.5\` (number)`,
      ].join("\n"),
    );
  });

  it("reports a file that cannot be read", () => {
    const missing = join(tmpdir(), "no-such-dir", "steward.yaml");
    const err = loadError(missing) as TopologyReadError;
    expect(err).toBeInstanceOf(TopologyReadError);
    expect(err.code).toBe("STW-1012");
    expect(err.message).toBe(
      `cannot read topology file ${missing}: no such file; pass -f FILE or run where steward.yaml is`,
    );
  });

  it("prints a dependency cycle", () => {
    const err = loadError(fixture("cycle.yaml"));
    expect(err).toBeInstanceOf(DependencyCycleError);
    const file = relative(process.cwd(), fixture("cycle.yaml"));
    expect((err as DependencyCycleError).cycle).toEqual(["web", "api", "cache", "web"]);
    expect((err as DependencyCycleError).message).toBe(`${file}: dependency cycle: web → api → cache → web`);
  });

  it("reports a component that depends on itself at its key", () => {
    const file = tempTopology("components:\n  a:\n    command: x\n    depends_on: [a]\n");
    expect((loadError(file) as TopologyError).issues).toEqual([
      {
        file,
        line: 4,
        column: 18,
        path: "components.a.depends_on[0]",
        message: "`a` cannot depend on itself",
      },
    ]);
  });

  it.each([
    [
      "an empty file",
      "",
      [1, 1, "", "expected a mapping with `components` at the top of the file, got nothing"],
    ],
    [
      "a list",
      "- a\n",
      [1, 1, "", "expected a mapping with `components` at the top of the file, got a list"],
    ],
    [
      "a misspelt top-level key",
      "componets: {}\n",
      [1, 1, "componets", "unknown key `componets`; did you mean `components`?"],
    ],
    [
      "an empty section",
      "components:\n  a:\n    command: x\n    ready:\n",
      [4, 5, "components.a.ready", "expected a mapping, got an empty value"],
    ],
    [
      "no probe",
      "components:\n  a:\n    command: x\n    ready: { within: 5s }\n",
      [4, 12, "components.a.ready", "expected one probe: `tcp`, `http`, `exec`, `log`"],
    ],
    [
      "two probes",
      "components:\n  a:\n    command: x\n    health: { tcp: 1, http: /h }\n",
      [4, 13, "components.a.health", "expected one probe, got `http` and `tcp`"],
    ],
    [
      "an empty command",
      "components:\n  a:\n    command: []\n",
      [
        3,
        14,
        "components.a.command",
        "expected a command: a string like `node app.js` or a list like `[node, app.js]`, got a list",
      ],
    ],
    [
      "a bad signal",
      "components:\n  a:\n    command: x\n    stop: { signal: SIGTREM }\n",
      [
        4,
        21,
        "components.a.stop.signal",
        "expected a signal name like `SIGTERM`, got `SIGTREM` (string); did you mean `SIGTERM`?",
      ],
    ],
    [
      "a bad name",
      "components:\n  a.b:\n    command: x\n",
      [2, 3, "components.a.b", "invalid name `a.b`: use a letter, then letters, digits, `_` or `-`"],
    ],
    [
      "a bad env name",
      "components:\n  a:\n    command: x\n    env: { A-B: 1 }\n",
      [
        4,
        12,
        "components.a.env.A-B",
        "invalid name `A-B`: an environment variable name has letters, digits and `_`, and does not start with a digit",
      ],
    ],
    [
      "a bad schedule",
      "jobs:\n  j:\n    command: x\n    schedule: 61 * * * *\n",
      [4, 15, "jobs.j.schedule", "`61 * * * *` is not a valid schedule: Invalid value for minute: 61"],
    ],
    [
      "a bad regular expression",
      'components:\n  a:\n    command: x\n    ready: { log: "(" }\n',
      [
        4,
        19,
        "components.a.ready.log",
        "`(` is not a valid regular expression: Invalid regular expression: /(/: Unterminated group",
      ],
    ],
    [
      "a bad store",
      "store: mysql://x\n",
      [
        1,
        8,
        "store",
        "expected `sqlite` or a URL like `postgres://user@host:5432/db`, got `mysql://x` (string)",
      ],
    ],
    [
      "min_available above replicas",
      "components:\n  a:\n    command: x\n    replicas: 2\n    min_available: 3\n",
      [5, 20, "components.a.min_available", "`min_available` (3) is more than `replicas` (2)"],
    ],
    [
      "a bad hold",
      "components:\n  a:\n    command: x\nroutes:\n  - { listen: 80, to: a, hold: { timeout: 5 } }\n",
      [5, 43, "routes[0].hold.timeout", "expected a duration like `30s`, got `5` (number)"],
    ],
    [
      "a hold of the wrong type",
      "components:\n  a:\n    command: x\nroutes:\n  - { listen: 80, to: a, hold: 5 }\n",
      [5, 32, "routes[0].hold", "expected a duration like `30s`, got `5` (number)"],
    ],
    [
      "duplicate routes",
      "components:\n  a:\n    command: x\nroutes:\n  - { listen: 80, to: a }\n  - { listen: 80, path: /, to: a }\n",
      [6, 5, "routes[1]", "same `listen`, `host` and `path` as routes[0]"],
    ],
    [
      "a job named like a component",
      "components:\n  a:\n    command: x\njobs:\n  a:\n    command: y\n",
      [5, 3, "jobs.a", "`a` is already the name of a component"],
    ],
    ["`${home}` in home", "home: ${home}/x\n", [1, 7, "home", "`${home}` cannot be used here"]],
    [
      "an unresolved alias",
      "components:\n  a: *nope\n",
      [2, 6, "", "YAML alias `*nope` has no anchor `&nope` before it"],
    ],
    [
      "a duplicate key",
      "components:\n  a:\n    command: x\n    command: y\n",
      [4, 5, "", "YAML syntax error: Map keys must be unique"],
    ],
  ] as const)("reports %s", (_, text, [line, column, path, message]) => {
    const file = tempTopology(text);
    expect((loadError(file) as TopologyError).issues).toEqual([{ file, line, column, path, message }]);
  });
});
