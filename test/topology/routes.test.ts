import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { parseTopology } from "../../src/topology/index.js";

const file = join(tmpdir(), "steward.yaml");
const topology = (routes: string): string =>
  `components:\n  engine:\n    command: node engine.js\n    env: { PORT: "\${port}" }\nroutes:\n${routes}`;

function issues(text: string): [number, number, string, string][] {
  try {
    parseTopology(text, file, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.column, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

describe("routes", () => {
  it("prefer: local is compiled; any other value is refused naming the key", () => {
    const t = parseTopology(topology("  - { listen: 8080, to: engine, prefer: local }\n"), file, { env: {} });
    expect(t.routes[0]?.prefer).toBe("local");
    expect(
      parseTopology(topology("  - { listen: 8080, to: engine }\n"), file, { env: {} }).routes[0],
    ).not.toHaveProperty("prefer");
    expect(issues(topology("  - { listen: 8080, to: engine, prefer: remote }\n"))).toEqual([
      [6, 41, "routes[0].prefer", "expected one of `local`, got `remote` (string)"],
    ]);
  });

  it("compiles every route option with its defaults", () => {
    const t = parseTopology(
      topology(
        [
          "  - { listen: 8080, path: /api, to: engine }",
          "  - listen: 127.0.0.1:8081",
          "    host: Shop.Example.com",
          "    to: engine",
          "    balance: least-conn",
          "    hold: { timeout: 2s, queue: 5 }",
          "    max_body: 1MiB",
          "    timeout: 5s",
          '  - { listen: "[::1]:8082", to: engine, hold: true }',
          "",
        ].join("\n"),
      ),
      file,
      { env: {} },
    );
    expect(t.routes).toEqual([
      {
        listen: 8080,
        address: "0.0.0.0",
        path: "/api",
        to: "engine",
        balance: "round-robin",
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
      },
      {
        listen: 8081,
        address: "127.0.0.1",
        path: "/",
        host: "shop.example.com",
        to: "engine",
        balance: "least-conn",
        hold: { timeoutMs: 2_000, maxQueued: 5 },
        maxBodyBytes: 1024 * 1024,
        timeoutMs: 5_000,
      },
      {
        listen: 8082,
        address: "::1",
        path: "/",
        to: "engine",
        balance: "round-robin",
        hold: { timeoutMs: 10_000, maxQueued: 1_000 },
        maxBodyBytes: 10 * 1024 * 1024,
        timeoutMs: 60_000,
      },
    ]);
  });

  it.each([
    [
      "a listen address that is not an IP",
      "  - { listen: localhost:8080, to: engine }\n",
      [
        6,
        15,
        "routes[0].listen",
        "expected a port like `8080` or an address and port like `127.0.0.1:8080`: `localhost` is not an IP address (write IPv6 in brackets: `[::1]:8080`)",
      ],
    ],
    [
      "a port out of range in an address",
      "  - { listen: 127.0.0.1:70000, to: engine }\n",
      [
        6,
        15,
        "routes[0].listen",
        "expected a port like `8080` or an address and port like `127.0.0.1:8080`, got `127.0.0.1:70000` (string)",
      ],
    ],
    [
      "a bad max_body",
      "  - { listen: 8080, to: engine, max_body: lots }\n",
      [
        6,
        43,
        "routes[0].max_body",
        "expected a size like `10MB` or `512KiB`, got `lots` (string): write a number and a unit, like `10MB` or `512KiB`",
      ],
    ],
    [
      "a bad timeout",
      "  - { listen: 8080, to: engine, timeout: 5 }\n",
      [6, 42, "routes[0].timeout", "expected a duration like `30s`, got `5` (number)"],
    ],
    [
      "a host with a port",
      "  - { listen: 8080, to: engine, host: shop.example.com:80 }\n",
      [
        6,
        39,
        "routes[0].host",
        "expected a host name like `shop.example.com` or `*.example.com` (no port), got `shop.example.com:80` (string)",
      ],
    ],
    [
      "a path with a query",
      "  - { listen: 8080, to: engine, path: /api?x=1 }\n",
      [6, 39, "routes[0].path", "a path prefix has no query, fragment or spaces, got `/api?x=1` (string)"],
    ],
    [
      "a misspelt option",
      "  - { listen: 8080, to: engine, max_bdy: 1MB }\n",
      [6, 33, "routes[0].max_bdy", "unknown key `max_bdy`; did you mean `max_body`?"],
    ],
    [
      "a wildcard and a specific address on one port",
      "  - { listen: 8080, to: engine }\n  - { listen: 127.0.0.1:8080, path: /api, to: engine }\n",
      [
        7,
        15,
        "routes[1].listen",
        "listens on 127.0.0.1:8080, but routes[0] binds 0.0.0.0:8080; routes sharing a port bind the same address (or only specific, different ones)",
      ],
    ],
    [
      "the same route twice, the port written two ways",
      '  - { listen: 8080, to: engine }\n  - { listen: "0.0.0.0:8080", to: engine }\n',
      [7, 5, "routes[1]", "same `listen`, `host` and `path` as routes[0]"],
    ],
  ] as const)("reports %s", (_, routes, expected) => {
    expect(issues(topology(routes))).toEqual([expected]);
  });

  it("accepts different specific addresses on one port", () => {
    const t = parseTopology(
      topology("  - { listen: 127.0.0.1:8080, to: engine }\n  - { listen: 127.0.0.2:8080, to: engine }\n"),
      file,
      { env: {} },
    );
    expect(t.routes.map((r) => `${r.address}:${r.listen}`)).toEqual(["127.0.0.1:8080", "127.0.0.2:8080"]);
  });
});
