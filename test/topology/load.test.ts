import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTopology, parseTopology, type CompiledComponent } from "../../src/topology/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = dirname(fixture("full.yaml"));

const restartDefaults = {
  policy: "on-failure",
  backoffInitialMs: 100,
  backoffMaxMs: 30_000,
  limitCount: 5,
  limitWindowMs: 60_000,
} as const;
const logDefaults = { maxBytes: 10 * 1024 * 1024, keep: 5 };

describe("loadTopology: a valid topology", () => {
  it("compiles the design's example with every default filled", () => {
    const home = join(dir, ".steward");
    expect(loadTopology(fixture("full.yaml"), { env: {}, node: "n1" })).toEqual({
      file: fixture("full.yaml"),
      dir,
      name: "shop",
      home,
      store: { kind: "sqlite", path: join(home, "state.db") },
      components: [
        {
          name: "store",
          command: `node store.js --data ${home}/data`,
          cwd: dir,
          editionCwd: ".",
          env: {},
          replicas: 1,
          usesPort: false,
          dependsOn: [],
          ready: {
            kind: "tcp",
            host: "127.0.0.1",
            port: "7001",
            intervalMs: 200,
            timeoutMs: 1_000,
            withinMs: 30_000,
          },
          stop: { signal: "SIGTERM", graceMs: 120_000 },
          drain: { timeoutMs: 30_000 },
          recover: "node store.js --repair",
          restart: restartDefaults,
          offlineCode: "STORE_OFFLINE",
          minAvailable: 1,
          logs: logDefaults,
        },
        {
          name: "engine",
          command: ["node", "engine.js"],
          cwd: dir,
          editionCwd: ".",
          env: { PORT: "${port}" },
          replicas: 2,
          usesPort: true,
          dependsOn: [{ component: "store", condition: "ready" }],
          ready: {
            kind: "http",
            url: "/healthz",
            intervalMs: 200,
            timeoutMs: 1_000,
            withinMs: 60_000,
          },
          health: {
            kind: "http",
            url: "/healthz",
            intervalMs: 1_000,
            timeoutMs: 1_000,
            fall: 2,
            rise: 2,
          },
          stop: { signal: "SIGTERM", graceMs: 30_000 },
          drain: { command: "curl -fsS -X POST http://127.0.0.1:${port}/flush", timeoutMs: 30_000 },
          restart: restartDefaults,
          offlineCode: "ENGINE_OFFLINE",
          minAvailable: 1,
          logs: logDefaults,
        },
        {
          name: "scheduler",
          command: "node scheduler.js",
          cwd: dir,
          editionCwd: ".",
          env: {},
          replicas: 1,
          usesPort: false,
          dependsOn: [{ component: "engine", condition: "ready" }],
          stop: { signal: "SIGTERM", graceMs: 30_000 },
          drain: { timeoutMs: 30_000 },
          restart: restartDefaults,
          offlineCode: "SCHEDULER_OFFLINE",
          minAvailable: 1,
          logs: logDefaults,
        },
      ],
      jobs: [
        {
          name: "nightly-report",
          command: "node report.js",
          cwd: dir,
          editionCwd: ".",
          env: {},
          schedule: "0 2 * * *",
          concurrency: 1,
          duringMaintenance: "wait",
          duringPatching: "hold",
        },
      ],
      routes: [
        {
          listen: 8080,
          address: "0.0.0.0",
          path: "/api",
          to: "engine",
          balance: "round-robin",
          maxBodyBytes: 10 * 1024 * 1024,
          timeoutMs: 60_000,
        },
      ],
      edge: {
        accessLog: { maxBytes: 10 * 1024 * 1024, keep: 5 },
        reservedFds: 256,
        listeners: [
          {
            address: "0.0.0.0",
            port: 8080,
            maxConnections: 10_000,
            maxConnectionsPerClient: 256,
            headTimeoutMs: 10_000,
          },
        ],
      },
      patching: {
        root: "/srv/shop",
        sync: "patches",
        exclude: ["*.log", "tmp/"],
        customSync: ["npm ci --omit=dev"],
        diskMarginBytes: 64 * 1024 * 1024,
        keepSessions: 10,
      },
    });
  });

  it("fills every default of a one-line component", () => {
    const t = loadTopology(fixture("minimal.yaml"), { env: {} });
    expect(t.name).toBe("fixtures");
    expect(t.home).toBe(join(dir, ".steward"));
    expect(t.store).toEqual({ kind: "sqlite", path: join(dir, ".steward", "state.db") });
    expect(t.components).toEqual([
      {
        name: "web-v2",
        command: "node web.js",
        cwd: dir,
        env: {},
        replicas: 1,
        usesPort: false,
        dependsOn: [],
        stop: { signal: "SIGTERM", graceMs: 30_000 },
        drain: { timeoutMs: 30_000 },
        restart: restartDefaults,
        offlineCode: "WEB_V2_OFFLINE",
        minAvailable: 1,
        logs: logDefaults,
      } satisfies CompiledComponent,
    ]);
    expect([t.jobs, t.routes, t.patching, t.cluster]).toEqual([[], [], undefined, undefined]);
  });

  it("layers component settings over `defaults` over the built-in defaults", () => {
    const t = loadTopology(fixture("defaults.yaml"), { env: { API_REPLICAS: "4" }, node: "n1" });
    const [db, api, migrate] = t.components;
    expect(t.home).toBe(join(dir, "var", "steward"));
    expect(db?.stop).toEqual({ signal: "SIGINT", graceMs: 10_000 });
    expect(db?.restart).toEqual({
      policy: "always",
      backoffInitialMs: 1_000,
      backoffMaxMs: 1_000,
      limitCount: 3,
      limitWindowMs: 10_000,
    });
    expect(db?.drain).toEqual({ timeoutMs: 5_000 });
    expect(db?.logs).toEqual({ maxBytes: 1_048_576, keep: 2 });
    expect(api?.logs).toEqual({ maxBytes: 1_048_576, keep: 5 });
    expect(migrate?.restart.policy).toBe("no");
    expect(migrate?.restart.limitCount).toBe(3);
  });

  it("resolves paths, probes, dependencies, env and routes", () => {
    const t = loadTopology(fixture("defaults.yaml"), {
      env: { STATE_DIR: "/var/lib/shop", EDGE_PORT: "9090" },
      node: "n1",
    });
    const [db, api, migrate] = t.components;
    expect(t.home).toBe("/var/lib/shop/steward");
    expect(db?.command).toEqual(["postgres", "-D", "/var/lib/shop/steward/pg"]);
    expect(db?.cwd).toBe(join(dir, "db"));
    expect(db?.ready).toEqual({
      kind: "tcp",
      host: "db.local",
      port: "${port}",
      intervalMs: 200,
      timeoutMs: 1_000,
      withinMs: 60_000,
    });
    expect(db?.usesPort).toBe(true);
    expect(api?.replicas).toBe(3);
    expect(api?.minAvailable).toBe(2);
    expect(api?.usesPort).toBe(false);
    expect(api?.dependsOn).toEqual([{ component: "db", condition: "ready" }]);
    expect(api?.env).toEqual({ WORKERS: "4", DEBUG: "true", NODE: "n1" });
    expect(api?.ready).toEqual({
      kind: "log",
      pattern: "listening on \\d+",
      intervalMs: 500,
      timeoutMs: 1_000,
      withinMs: 120_000,
    });
    expect(api?.health).toEqual({
      kind: "exec",
      command: "./check.sh",
      intervalMs: 1_000,
      timeoutMs: 3_000,
      fall: 2,
      rise: 2,
    });
    expect(migrate?.dependsOn).toEqual([{ component: "db", condition: "started" }]);
    expect(migrate?.usesPort).toBe(true);
    expect(t.jobs).toEqual([
      {
        name: "vacuum",
        command: "vacuumdb --all",
        cwd: "/srv/jobs",
        env: {},
        concurrency: 1,
        duringMaintenance: "wait",
        duringPatching: "run",
      },
    ]);
    expect(t.routes).toEqual([
      {
        listen: 9090,
        path: "/",
        to: "api",
        balance: "round-robin",
        address: "0.0.0.0",
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
      },
      {
        listen: 8081,
        address: "0.0.0.0",
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
        host: "admin.local",
        path: "/admin",
        to: "api",
        balance: "least-conn",
        hold: { timeoutMs: 10_000, maxQueued: 1_000 },
      },
      {
        listen: 8082,
        address: "0.0.0.0",
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
        path: "/",
        to: "api",
        balance: "round-robin",
        hold: { timeoutMs: 2_000, maxQueued: 1_000 },
      },
      {
        listen: 8083,
        address: "0.0.0.0",
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
        path: "/",
        to: "api",
        balance: "round-robin",
        hold: { timeoutMs: 10_000, maxQueued: 50 },
      },
    ]);
  });

  it("keeps a postgres store's URL; compiles the cluster section and patching", () => {
    const t = loadTopology(fixture("cluster.yaml"), { env: { STEWARD_NODE: "n1" } });
    expect(t.store).toEqual({ kind: "postgres", url: "postgres://steward@db.internal:5432/steward" });
    expect(t.cluster).toEqual({
      node: "n1",
      digest: expect.stringMatching(/^[0-9a-f]{16}$/),
      advertise: "127.0.0.1",
      heartbeatMs: 2000,
      allowedMisses: 3,
      leaseMs: 10_000,
      maxUnavailable: 1,
    });
    expect(t.patching).toEqual({
      root: join(dir, ".steward", "editions"),
      sync: "delta",
      exclude: [],
      customSync: [["npm", "ci"], "make build"],
      diskMarginBytes: 64 * 1024 * 1024,
      keepSessions: 10,
    });
  });

  it("keeps `$${` escapes in templates for spawn time and removes them elsewhere", () => {
    const t = parseTopology(
      ["components:", "  a:", "    command: \"sh -c 'echo $${HOME}:$${port}'\"", '    cwd: "dir$${x}"'].join(
        "\n",
      ),
      join(tmpdir(), "steward.yaml"),
      { env: {} },
    );
    expect(t.components[0]?.command).toBe("sh -c 'echo $${HOME}:$${port}'");
    expect(t.components[0]?.usesPort).toBe(false);
    expect(t.components[0]?.cwd).toBe(join(tmpdir(), "dir${x}"));
  });

  it("accepts YAML anchors and merge keys", () => {
    const d = mkdtempSync(join(tmpdir(), "steward-topology-"));
    const file = join(d, "steward.yaml");
    writeFileSync(
      file,
      [
        "x-base: &base { command: node app.js, stop: { grace: 5s } }",
        "components:",
        "  a: { <<: *base, replicas: 2 }",
        "  b: *base",
      ].join("\n"),
    );
    // `x-base` is not a valid top-level key: anchors live inside known keys.
    expect(() => loadTopology(file, { env: {} })).toThrow("unknown key `x-base`");
    writeFileSync(
      file,
      [
        "components:",
        "  a: &base { command: node app.js, stop: { grace: 5s } }",
        "  b: { <<: *base, replicas: 2 }",
      ].join("\n"),
    );
    const [a, b] = loadTopology(file, { env: {} }).components;
    expect(a?.stop.graceMs).toBe(5_000);
    expect([b?.command, b?.stop.graceMs, b?.replicas]).toEqual(["node app.js", 5_000, 2]);
  });
});
