import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TopologyReadError } from "../../src/errors.js";
import { locateHome } from "../../src/topology/locate-home.js";

const dir = mkdtempSync(join(tmpdir(), "stw-home-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function locate(source: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, "steward.yaml");
  writeFileSync(file, source);
  return locateHome(file, env)?.home;
}

describe("locateHome (the CLI's fast path to the socket)", () => {
  it("defaults to .steward beside the file", () => {
    expect(locate("name: x\ncomponents: {}\n")).toBe(join(dir, ".steward"));
  });
  it("reads a plain, a quoted and an interpolated home", () => {
    expect(locate("home: state # here\n")).toBe(join(dir, "state"));
    expect(locate('home: "/var/lib/x"\n')).toBe("/var/lib/x");
    expect(locate("home: ${H:-fallback}/s\n", { H: "/srv" })).toBe("/srv/s");
    expect(locate("home: ${H:-fallback}/s\n")).toBe(join(dir, "fallback/s"));
  });
  it("gives up (the full loader decides) on anything it is not sure about", () => {
    expect(locate("home: ${UNSET}\n")).toBeUndefined();
    expect(locate("home: *anchor\n")).toBeUndefined();
    expect(locate('home: "a\\"b"\n')).toBeUndefined();
    expect(locate("{name: x, home: y}\n")).toBeUndefined();
    expect(locate("home: a\nhome: b\n")).toBeUndefined();
  });
  it("ignores indented home keys of nested mappings", () => {
    expect(locate("components:\n  a:\n    home: nested\n")).toBe(join(dir, ".steward"));
  });
  it("reports a missing file clearly", () => {
    expect(() => locateHome(join(dir, "nope.yaml"))).toThrow(TopologyReadError);
  });
});
