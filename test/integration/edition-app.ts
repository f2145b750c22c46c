/**
 * The patchable application the operation tests share: `web` (2 replicas, routed on a free port,
 * started with `${port}`) run from test/fixtures/edition-app out of `<dir>/editions`, with its
 * patch root initialised and the application up. Plus the control API's NDJSON answers, read.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { fixture, freePort, project, steward } from "./helpers.js";

export interface EditionApp {
  dir: string;
  port: number;
  /** `<dir>/editions`: the patch root (`run/` is the running edition). */
  root: string;
}

export interface EditionAppOptions {
  /** The application's name. */
  name: string;
  /** `ready.within` of web. */
  readyWithin: string;
  /** `drain.timeout` of web, when it drains. */
  drainTimeout?: string;
  /** Each start of web waits this long before it is ready (the fixture's `ready-delay.txt`). */
  readyDelayMs?: number;
}

export async function editionApp(opts: EditionAppOptions): Promise<EditionApp> {
  const port = await freePort();
  const drain = opts.drainTimeout ? `\n    drain: { timeout: ${opts.drainTimeout} }` : "";
  const dir = project(`
name: ${opts.name}
components:
  web:
    command: node server.js
    replicas: 2
    env: { PORT: "\${port}" }
    ready: { http: /healthz, within: ${opts.readyWithin} }
    stop: { grace: 3s }${drain}
routes:
  - { listen: "127.0.0.1:${port}", path: /, to: web }
patching:
  root: editions
`);
  fs.cpSync(fixture("edition-app"), path.join(dir, "app"), { recursive: true });
  if (opts.readyDelayMs !== undefined)
    fs.writeFileSync(path.join(dir, "app", "ready-delay.txt"), `${opts.readyDelayMs}\n`);
  const init = await steward(dir, "patch", "init", "--from", "app");
  expect(init.code, init.stderr).toBe(0);
  const up = await steward(dir, "up");
  expect(up.code, up.stdout + up.stderr).toBe(0);
  return { dir, port, root: path.join(dir, "editions") };
}

/** One line of an operation's or a patch phase's NDJSON answer. */
export interface StreamLine {
  type: string;
  result?: { ok: boolean; phase?: string; superseded?: { by: string; operation: string } };
  error?: { code?: string; message: string };
  event?: { name: string; data: { operation: string; message: string } };
}

/** The lines of an NDJSON answer (none unless it is a 200 stream). */
export function streamLines(status: number | undefined, text: string): StreamLine[] {
  if (status !== 200) return [];
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StreamLine);
}
