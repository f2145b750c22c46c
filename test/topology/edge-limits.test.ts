import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { parseTopology } from "../../src/topology/index.js";

const file = join(tmpdir(), "steward.yaml");
const topology = (rest: string): string =>
  `components:\n  engine:\n    command: node engine.js\n    env: { PORT: "\${port}" }\n${rest}`;

function issues(text: string): [number, number, string, string][] {
  try {
    parseTopology(text, file, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.column, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

describe("edge limits and access log", () => {
  it("defaults: 10000 connections per listener, 256 per client, 10s head timeout, 256 fds reserved, access log on", () => {
    const t = parseTopology(topology("routes:\n  - { listen: 8080, to: engine }\n"), file, { env: {} });
    expect(t.edge).toEqual({
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
    });
  });

  it("`edge` sets every listener's limits, a route its own listener's; the access log rotates as `defaults.logs`", () => {
    const t = parseTopology(
      topology(
        [
          "defaults: { logs: { max_size: 1MiB, keep: 2 } }",
          "edge: { max_connections: 500, max_connections_per_client: 20, head_timeout: 3s, reserved_fds: 1000 }",
          "routes:",
          "  - { listen: 8080, path: /api, to: engine, max_connections_per_client: 50 }",
          "  - { listen: 8080, path: /, to: engine, head_timeout: 2s }",
          "  - { listen: 127.0.0.1:8081, to: engine, max_connections: 7 }",
          "",
        ].join("\n"),
      ),
      file,
      { env: {} },
    );
    expect(t.edge).toEqual({
      accessLog: { maxBytes: 1024 * 1024, keep: 2 },
      reservedFds: 1000,
      listeners: [
        {
          address: "0.0.0.0",
          port: 8080,
          maxConnections: 500,
          maxConnectionsPerClient: 50,
          headTimeoutMs: 2_000,
        },
        {
          address: "127.0.0.1",
          port: 8081,
          maxConnections: 7,
          maxConnectionsPerClient: 20,
          headTimeoutMs: 3_000,
        },
      ],
    });
  });

  it("`access_log: false` turns the access log off", () => {
    const t = parseTopology(
      topology("edge: { access_log: false }\nroutes:\n  - { listen: 8080, to: engine }\n"),
      file,
      {
        env: {},
      },
    );
    expect(t.edge.accessLog).toBeNull();
  });

  it("refuses bad values with located errors", () => {
    expect(
      issues(
        topology(
          [
            "edge:",
            "  max_connections: 0",
            "  max_connections_per_client: many",
            "  head_timeout: 1h",
            "  reserved_fds: 10",
            "  access_log: yes",
            "  max_conections: 5",
            "routes:",
            "  - { listen: 8080, to: engine, head_timeout: 10 }",
            "",
          ].join("\n"),
        ),
      ),
    ).toEqual([
      [6, 20, "edge.max_connections", "expected a whole number from 1 to 1000000, got `0` (number)"],
      [
        7,
        31,
        "edge.max_connections_per_client",
        "expected a whole number from 1 to 1000000, got `many` (string)",
      ],
      [8, 17, "edge.head_timeout", "expected a duration from `100ms` to `10m`, got `1h` (string)"],
      [9, 17, "edge.reserved_fds", "expected a whole number from 64 to 1000000, got `10` (number)"],
      [10, 15, "edge.access_log", "expected `true` or `false`, got `yes` (string)"],
      [11, 3, "edge.max_conections", expect.stringMatching(/unknown key.*did you mean `max_connections`/)],
      [13, 47, "routes[0].head_timeout", "expected a duration like `30s`, got `10` (number)"],
    ]);
  });

  it("routes sharing a port must not disagree on its limits", () => {
    const found = issues(
      topology(
        [
          "routes:",
          "  - { listen: 8080, path: /api, to: engine, max_connections: 100 }",
          "  - { listen: 8080, path: /, to: engine, max_connections: 200 }",
          "  - { listen: 8081, to: engine, max_connections: 300 }",
          "",
        ].join("\n"),
      ),
    );
    expect(found).toEqual([
      [
        7,
        59,
        "routes[1].max_connections",
        "`max_connections` is 200, but routes[0] on the same listener (0.0.0.0:8080) sets 100; routes sharing a port share its limits: set it once, or to the same value",
      ],
    ]);
  });
});
