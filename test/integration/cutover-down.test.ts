/**
 * `down` asked while a cutover is queued or about to be: both clients get an answer. A cutover
 * still waiting its turn is withdrawn with a message naming `down` (nothing changed, its session
 * stays open for the next daemon); one already running finishes and answers first; then `down`
 * stops everything.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  fixture,
  freePort,
  homeOf,
  project,
  settleProcesses,
  socketOf,
  status,
  steward,
  waitFor,
} from "./helpers.js";

interface App {
  dir: string;
  root: string;
}

async function app(): Promise<App> {
  const port = await freePort();
  const dir = project(`
name: cutover-down
components:
  web:
    command: node server.js
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: 20s }
    stop: { grace: 3s }
    drain: { timeout: 2s }
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
patching:
  root: editions
`);
  fs.cpSync(fixture("edition-app"), path.join(dir, "app"), { recursive: true });
  expect((await steward(dir, "patch", "init", "--from", "app")).code).toBe(0);
  expect((await steward(dir, "up")).code).toBe(0);
  const p = path.join(dir, "patches", "v2");
  fs.mkdirSync(path.join(p, "files"), { recursive: true });
  fs.writeFileSync(path.join(p, "patch.yaml"), "id: v2\ndescription: version 2\n");
  fs.writeFileSync(path.join(p, "files", "version.txt"), "2\n");
  for (const args of [["prepare"], ["apply", p], ["finalize"]]) {
    const r = await steward(dir, "patch", ...args);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  return { dir, root: path.join(dir, "editions") };
}

interface Answer {
  /** The last NDJSON line, or null when the connection ended without one. */
  last: { type: string; result?: { ok: boolean }; error?: { message: string } } | null;
  text: string;
}

/** POST over the control socket; `heard` resolves on the first line. */
function ask(dir: string, urlPath: string): { heard: Promise<void>; done: Promise<Answer> } {
  let heard!: () => void;
  const first = new Promise<void>((r) => (heard = r));
  const done = new Promise<Answer>((resolve) => {
    const req = http.request(
      {
        socketPath: socketOf(dir),
        method: "POST",
        path: urlPath,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          heard();
        });
        const end = (): void => {
          heard();
          const lines = text.split("\n").filter(Boolean);
          let last: Answer["last"] = null;
          try {
            last = lines.length > 0 ? (JSON.parse(lines.at(-1)!) as Answer["last"]) : null;
          } catch {
            last = null; // cut mid-line
          }
          resolve({ last, text });
        };
        res.on("end", end);
        res.on("error", end);
        res.on("aborted", end);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${urlPath}: no answer within 60s`)));
    req.on("error", (err) => {
      heard();
      resolve({ last: null, text: String(err) });
    });
    req.end("{}");
  });
  return { heard: first, done };
}

const daemonLog = (a: App): string => fs.readFileSync(path.join(homeOf(a.dir), "logs", "daemon.log"), "utf8");

const REFUSED =
  /`steward down` was asked while this cutover waited its turn: the cutover did not run and nothing was changed/;

/** The daemon gone, nothing left running; the next daemon finds the session open, cutover failed. */
async function afterDown(a: App): Promise<void> {
  await waitFor("the daemon to exit", () => !fs.existsSync(socketOf(a.dir)), 20_000);
  expect(await settleProcesses(a.dir, 5_000)).toEqual([]);
}

describe("`down` and a cutover", () => {
  it("a cutover queued behind a restart is withdrawn when `down` is asked: both answer, the next daemon can cut over", async () => {
    const a = await app();
    // The restart's first replacement cannot become ready until `never-ready` goes: it is under way.
    fs.writeFileSync(path.join(a.root, "run", "never-ready"), "");
    const restart = steward(a.dir, "restart", "web");
    await waitFor("the restart under way", async () =>
      (await status(a.dir)).components[0]!.replicas.some((r) => r.index >= 2),
    );
    const cutover = ask(a.dir, "/v1/patch/cutover");
    await waitFor("the cutover queued", () =>
      /`patch cutover` \(op-\S+\) waits for `restart web`/.test(daemonLog(a)),
    );
    const down = ask(a.dir, "/v1/down");
    const refused = await cutover.done;
    expect(refused.last?.type, refused.text).toBe("error");
    expect(refused.last?.error?.message).toMatch(REFUSED);
    expect(daemonLog(a)).toMatch(/`patch cutover` \(op-\S+\) is withdrawn: `steward down` was asked/);
    fs.rmSync(path.join(a.root, "run", "never-ready"));
    const stopped = await down.done;
    expect(stopped.last, stopped.text).toMatchObject({ type: "result", result: { ok: true } });
    await restart;
    await afterDown(a);
    expect(fs.readlinkSync(path.join(a.root, "run"))).toBe("fs1");
    expect((await steward(a.dir, "up")).code).toBe(0);
    const again = await steward(a.dir, "patch", "cutover");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(fs.readlinkSync(path.join(a.root, "run"))).toBe("fs2");
  }, 90_000);

  it("`down` asked the moment a cutover is asked: the cutover completes or is refused by name, never unanswered", async () => {
    for (let round = 0; round < 3; round += 1) {
      const a = await app();
      const cutover = ask(a.dir, "/v1/patch/cutover");
      await cutover.heard;
      const down = ask(a.dir, "/v1/down");
      const [c, d] = await Promise.all([cutover.done, down.done]);
      expect(d.last, `round ${round}: down\n${d.text}`).toMatchObject({
        type: "result",
        result: { ok: true },
      });
      expect(c.last, `round ${round}: cutover\n${c.text}`).not.toBeNull();
      const run = fs.readlinkSync(path.join(a.root, "run"));
      if (c.last!.type === "error") {
        expect(c.last!.error!.message).toMatch(REFUSED);
        expect(run).toBe("fs1");
      } else {
        expect(c.last, c.text).toMatchObject({ type: "patch", result: { ok: true } });
        expect(run).toBe("fs2");
      }
      await afterDown(a);
    }
  }, 120_000);
});
