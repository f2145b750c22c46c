import { describe, expect, it } from "vitest";
import {
  interpolate,
  renderCommand,
  renderEnv,
  renderTemplate,
  templateVariables,
  type InterpolateOptions,
} from "../../src/topology/index.js";

const env = { DB: "db.local", EMPTY: "", WEIRD: "a${b}" };
const plain: InterpolateOptions = {
  env,
  values: { home: "/srv/.steward", node: "n1" },
  spawnVariables: [],
  template: false,
};
const template: InterpolateOptions = {
  ...plain,
  spawnVariables: ["port", "replica", "edition"],
  template: true,
};

describe("interpolate (load time)", () => {
  it.each([
    ["${DB}:5432", "db.local:5432"],
    ["${MISSING:-fallback}", "fallback"],
    ["${EMPTY:-used when empty}", "used when empty"],
    ["${DB:-not used}", "db.local"],
    ["${MISSING:-${home}/data}", "/srv/.steward/data"],
    ["${MISSING:-${ALSO_MISSING:-deep}}", "deep"],
    ["${home}/logs on ${node}", "/srv/.steward/logs on n1"],
    ["${EMPTY}", ""],
    ["$HOME and $ alone stay", "$HOME and $ alone stay"],
    ["$${DB} is literal", "${DB} is literal"],
    ["price: $$${DB}", "price: $${DB}"],
  ])("%j → %j", (input, value) => {
    expect(interpolate(input, plain)).toEqual({ value, problems: [] });
  });

  it("reports an unset variable without a default", () => {
    expect(interpolate("--db ${DATABASE_URL}", plain)).toEqual({
      value: "--db ",
      problems: [
        "environment variable `DATABASE_URL` is not set; set it or give a default: `${DATABASE_URL:-value}`",
      ],
    });
  });

  it("reports problems inside a default only when the default is used", () => {
    expect(interpolate("${DB:-${NOPE}}", plain).problems).toEqual([]);
    expect(interpolate("${MISSING:-${NOPE}}", plain).problems).toEqual([
      "environment variable `NOPE` is not set; set it or give a default: `${NOPE:-value}`",
    ]);
  });

  it.each([
    ["${", "`${` must be followed by a variable name (write `$${` for a literal `${`)"],
    ["${1X}", "`${` must be followed by a variable name (write `$${` for a literal `${`)"],
    ["${DB", "`${DB` has no closing `}`"],
    ["${DB:-x", "`${DB:-` has no closing `}`"],
    ["${DB-x}", "unexpected `-` after `${DB`; write `${DB}` or `${DB:-default}`"],
  ])("reports bad syntax in %j", (input, problem) => {
    expect(interpolate(input, plain).problems).toEqual([problem]);
  });

  it("keeps per-replica values for spawn time where they are allowed", () => {
    expect(interpolate("--port ${port} --id ${replica} --from ${edition}", template)).toEqual({
      value: "--port ${port} --id ${replica} --from ${edition}",
      problems: [],
    });
  });

  it("refuses per-replica values where they are not allowed, and defaults on them", () => {
    expect(interpolate("/data/${port}", plain).problems).toEqual([
      "`${port}` is only available in a component's command, env, ready, health, drain and recover",
    ]);
    expect(interpolate("${edition}", plain).problems).toEqual([
      "`${edition}` is only available in commands, env, probes, hooks and `patching`",
    ]);
    expect(interpolate("${port:-80}", template).problems).toEqual([
      "`${port}` is always set and cannot have a default",
    ]);
  });

  it("refuses `${home}` where the home is not known yet", () => {
    expect(interpolate("${home}/x", { ...plain, values: { node: "n1" } }).problems).toEqual([
      "`${home}` cannot be used here",
    ]);
  });

  it("in a template, keeps `$${` and escapes `${` in substituted values, so rendering is exact", () => {
    const loaded = interpolate("echo $${HOME} ${WEIRD} ${port}", template);
    expect(loaded).toEqual({ value: "echo $${HOME} a$${b} ${port}", problems: [] });
    expect(renderTemplate(loaded.value, { port: 4100, replica: 0, home: "/h" })).toBe(
      "echo ${HOME} a${b} 4100",
    );
  });
});

describe("renderTemplate (spawn time)", () => {
  const vars = { port: 4100, replica: 2, home: "/srv/.steward", node: "n1", edition: "/srv/shop/fs2" };

  it("renders port, replica, edition, home and node", () => {
    expect(
      renderTemplate("${edition}/app.js --port ${port} --id ${replica} --home ${home} --node ${node}", vars),
    ).toBe("/srv/shop/fs2/app.js --port 4100 --id 2 --home /srv/.steward --node n1");
  });

  it("turns `$${` into `${` and leaves other `${...}` alone", () => {
    expect(renderTemplate("sh -c 'echo $${PATH}' ${UNKNOWN} ${toString}", vars)).toBe(
      "sh -c 'echo ${PATH}' ${UNKNOWN} ${toString}",
    );
  });

  it("throws when a template needs a value that was not given", () => {
    expect(() => renderTemplate("--port ${port}", { replica: 0, home: "/h" })).toThrow(
      "cannot render `--port ${port}`: no value for `${port}`",
    );
    expect(() => renderTemplate("${edition}/x", { replica: 0, home: "/h" })).toThrow(
      "no value for `${edition}`",
    );
  });

  it("renders commands and env records", () => {
    expect(renderCommand(["node", "app.js", "--port=${port}"], vars)).toEqual([
      "node",
      "app.js",
      "--port=4100",
    ]);
    expect(renderCommand("node app.js --port ${port}", vars)).toBe("node app.js --port 4100");
    expect(renderEnv({ PORT: "${port}", ID: "r${replica}", RAW: "$${X}" }, vars)).toEqual({
      PORT: "4100",
      ID: "r2",
      RAW: "${X}",
    });
  });

  it("lists the variables a template mentions, escapes excluded", () => {
    expect(templateVariables("a ${port} $${replica} ${edition}")).toEqual(new Set(["port", "edition"]));
  });
});
