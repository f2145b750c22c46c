import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.js";
import { Daemon } from "../../src/daemon/daemon.js";

const fixture = (name: string): string => join(import.meta.dirname, "..", "fixtures", name);

describe("control API", () => {
  let dir: string;
  let daemon: Daemon;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "stw-api-"));
    writeFileSync(
      join(dir, "steward.yaml"),
      `name: api\ncomponents:\n  a:\n    command: [node, ${fixture("forever.js")}]\n    stop: { grace: 2s }\n`,
    );
    daemon = await Daemon.boot(join(dir, "steward.yaml"));
  });

  afterEach(async () => {
    await daemon.down();
    await daemon.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: string) =>
    createApp(daemon.control()).request(path, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });

  it("answers malformed JSON with 400 and a message", async () => {
    const res = await post("/v1/start", "{not json");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("STW-1006");
    expect(body.error.message).toMatch(/^request body is not valid JSON/);
  });

  it("answers an unknown body key and a wrong type with 400", async () => {
    const unknown = await post("/v1/start", JSON.stringify({ component: ["a"] }));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/component/);
    const wrong = await post("/v1/stop", JSON.stringify({ components: "a" }));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toMatch(/`components`/);
  });

  it("answers an unknown component with 404 and a suggestion, and an unknown endpoint with 404", async () => {
    const res = await post("/v1/stop", JSON.stringify({ components: ["b"] }));
    expect(res.status).toBe(404);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { known: string[] } };
    };
    expect(body.error.code).toBe("STW-1003");
    expect(body.error.details.known).toEqual(["a"]);
    const none = await createApp(daemon.control()).request("/v1/nothing");
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("STW-1404");
  });

  it("streams an operation's progress as NDJSON ending with the result", async () => {
    const res = await post("/v1/start", JSON.stringify({ components: ["a"] }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; event?: { name: string }; result?: unknown });
    expect(lines.map((l) => l.event?.name).filter(Boolean)).toContain("replica:ready");
    expect(lines.at(-1)).toEqual({
      type: "result",
      result: { application: "api", ok: true, components: [{ name: "a", ok: true, ms: expect.any(Number) }] },
    });
    const status = daemon.control().status();
    expect(status.components[0]?.replicas[0]?.state).toBe("ready");
  });
});
