// The control API's limits, over the daemon's real Unix socket: a body over 1 MiB is refused with
// 413 without being read into memory (declared or chunked), and every number is range-checked
// (400 naming the field and the range) — and nothing runs differently after a refused request.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/limits.js";
import { Daemon, socketPath } from "../../src/daemon/daemon.js";

const fixture = (name: string): string => join(import.meta.dirname, "..", "fixtures", name);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request on the socket whose body is `size` bytes sent in 64 KiB writes (declared in
 * `Content-Length`, or chunked); resolves with the answer, even when the daemon closes the
 * connection before the client has finished sending.
 */
function send(
  socket: string,
  path: string,
  body: { text?: string; size?: number; chunked?: boolean },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const size = body.text !== undefined ? Buffer.byteLength(body.text) : (body.size ?? 0);
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json" };
    if (!body.chunked) headers["content-length"] = size;
    const req = http.request({ socketPath: socket, method: "POST", path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", (err) => {
      // The answer came and the connection closed under the rest of the upload: expected.
      if (!(err as NodeJS.ErrnoException).code?.match(/EPIPE|ECONNRESET/)) reject(err);
    });
    if (body.text !== undefined) return req.end(body.text);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size && !req.destroyed) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

const errorOf = (a: Answer): { code: string; message: string; details: Record<string, unknown> } =>
  (JSON.parse(a.body) as { error: { code: string; message: string; details: Record<string, unknown> } })
    .error;

describe("control API limits", () => {
  let dir: string;
  let daemon: Daemon;
  let socket: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "stw-lim-"));
    writeFileSync(
      join(dir, "steward.yaml"),
      [
        "name: limits",
        "components:",
        "  a:",
        `    command: [node, ${fixture("forever.js")}]`,
        "    stop: { grace: 2s }",
        "jobs:",
        "  long:",
        `    command: [node, ${fixture("forever.js")}]`,
        "",
      ].join("\n"),
    );
    daemon = await Daemon.boot(join(dir, "steward.yaml"));
    socket = socketPath(join(dir, ".steward"));
    const start = await send(socket, "/v1/up", { text: "" });
    expect(start.status).toBe(200);
  });

  afterEach(async () => {
    await daemon.down();
    await daemon.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replica states and pids, job runs in progress, maintenance: what a refused request must not change. */
  const snapshot = (): unknown => ({
    replicas: daemon
      .control()
      .status()
      .components.map((c) => c.replicas.map((r) => [r.state, r.pid])),
    running: daemon.jobs.running().map((r) => [r.id, r.state, r.pid]),
    paused: daemon.jobs.paused("long"),
  });

  it("a 100 MB body with Content-Length: 413 STW-1016 at once, not buffered; the connection is closed", async () => {
    const before = snapshot();
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    const answer = await send(socket, "/v1/stop", { size: 100 * 1024 * 1024 });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(errorOf(answer)).toEqual({
      code: "STW-1016",
      message: `request body too large: a body of ${100 * 1024 * 1024} bytes is over the control API's limit of 1048576 bytes (1 MiB)`,
      details: { limit: MAX_BODY_BYTES, declared: 100 * 1024 * 1024 },
    });
    // Refused from the header: far less than 100 MB read, far less memory grown.
    expect(process.memoryUsage().rss - rss).toBeLessThan(50 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(snapshot()).toEqual(before);
  });

  it("a chunked body is refused once it passes 1 MiB; one of exactly 1 MiB is read", async () => {
    const before = snapshot();
    const over = await send(socket, "/v1/stop", { size: 8 * 1024 * 1024, chunked: true });
    expect(over.status).toBe(413);
    expect(errorOf(over)).toMatchObject({
      code: "STW-1016",
      message: expect.stringContaining(
        "a body sent chunked is over the control API's limit of 1048576 bytes",
      ),
    });
    expect(snapshot()).toEqual(before);

    const json = JSON.stringify({ components: ["a"] });
    const atLimit = await send(socket, "/v1/start", {
      text: json + " ".repeat(MAX_BODY_BYTES - json.length),
    });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body).toContain('"type":"result"');
    const justOver = await send(socket, "/v1/start", {
      text: json + " ".repeat(MAX_BODY_BYTES + 1 - json.length),
    });
    expect(justOver.status).toBe(413);
    expect(snapshot()).toEqual(before);
  });

  it.each([
    ["a wait past what a timer can wait", 3_000_000_000, "3000000000"],
    ["a negative wait", -5_000, "-5000"],
    ["a fractional wait", 1.5, "1.5"],
    ["a wait as a string", "5s", '"5s" (string)'],
    ["a wait that JSON reads as Infinity", "1e400", "Infinity"],
  ])(
    "maintenance on with %s: 400 naming `wait` and its range; the job keeps running, nothing goes offline",
    async (_what, wait, got) => {
      const run = await send(socket, "/v1/jobs/long/run", { text: "" });
      expect(run.status).toBe(201);
      const before = snapshot();
      expect((before as { running: unknown[] }).running).toHaveLength(1);
      const text = wait === "1e400" ? '{"wait": 1e400}' : JSON.stringify({ wait });
      const answer = await send(socket, "/v1/maintenance/on", { text });
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toEqual({
        code: "STW-1006",
        message: `bad request body: \`wait\` must be a whole number of milliseconds from 0 to 2147483647, got ${got}`,
        details: { field: "wait", min: 0, max: 2_147_483_647, got },
      });
      await new Promise((r) => setTimeout(r, 200)); // a timer that overflowed would have fired by now
      expect(snapshot()).toEqual(before);
      expect(daemon.control().status().components[0]!.replicas[0]!.state).toBe("ready");
    },
  );

  it("patch cutover with waitJobs out of range: 400 naming `waitJobs` before anything else is looked at", async () => {
    const answer = await send(socket, "/v1/patch/cutover", { text: JSON.stringify({ waitJobs: 2 ** 31 }) });
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatchObject({
      code: "STW-1006",
      details: { field: "waitJobs", min: 0, max: 2_147_483_647, got: "2147483648" },
    });
  });
});
