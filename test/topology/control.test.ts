import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TopologyError } from "../../src/errors.js";
import { parseTopology } from "../../src/topology/index.js";

const file = join(tmpdir(), "steward.yaml");
const topology = (rest: string): string => `components:\n  engine:\n    command: node engine.js\n${rest}`;

function issues(text: string): [number, number, string, string][] {
  try {
    parseTopology(text, file, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).issues.map((i) => [i.line, i.column, i.path, i.message]);
  }
  throw new Error("expected the topology to be refused");
}

describe("control (the remote API listener)", () => {
  it("is absent by default: no network listener", () => {
    expect(parseTopology(topology(""), file, { env: {} }).control).toBeUndefined();
  });

  it("a bare port binds 127.0.0.1; TLS paths resolve against the topology's directory", () => {
    expect(parseTopology(topology("control: { listen: 7400 }\n"), file, { env: {} }).control).toEqual({
      address: "127.0.0.1",
      port: 7400,
      insecure: false,
    });
    const t = parseTopology(
      topology("control:\n  listen: 0.0.0.0:7400\n  tls: { cert: tls/cert.pem, key: /etc/k.pem }\n"),
      file,
      { env: {} },
    );
    expect(t.control).toEqual({
      address: "0.0.0.0",
      port: 7400,
      tls: { certFile: join(tmpdir(), "tls/cert.pem"), keyFile: "/etc/k.pem" },
      insecure: false,
    });
  });

  it("plain HTTP off loopback is allowed only with `insecure: true`", () => {
    const t = parseTopology(topology("control: { listen: 10.0.0.5:7400, insecure: true }\n"), file, {
      env: {},
    });
    expect(t.control).toEqual({ address: "10.0.0.5", port: 7400, insecure: true });
    expect(
      parseTopology(topology("control: { listen: '[::1]:7400' }\n"), file, { env: {} }).control?.address,
    ).toBe("::1");
  });

  it("refuses plain HTTP off loopback, and bad values, with located errors", () => {
    expect(issues(topology("control:\n  listen: 0.0.0.0:7400\n"))).toEqual([
      [
        5,
        11,
        "control.listen",
        expect.stringMatching(
          /^the remote API on 0\.0\.0\.0:7400 would carry tokens in clear text.*`insecure: true`/,
        ),
      ],
    ]);
    expect(
      issues(
        topology(
          [
            "control:",
            "  listen: localhost:7400",
            "  tls: { cert: c.pem }",
            "  insecure: yes",
            "  tsl: {}",
            "",
          ].join("\n"),
        ),
      ),
    ).toEqual([
      [5, 11, "control.listen", expect.stringMatching(/`localhost` is not an IP address/)],
      [6, 3, "control.tls.key", "missing required key `key`"],
      [7, 13, "control.insecure", "expected `true` or `false`, got `yes` (string)"],
      [8, 3, "control.tsl", expect.stringMatching(/unknown key.*did you mean `tls`/)],
    ]);
  });
});
