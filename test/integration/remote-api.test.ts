// The remote API (issue 13, items 1, 2, 7): the control API over real HTTPS (a throwaway CA made
// with openssl, a certificate for 127.0.0.1) behind bearer tokens. The admin token made at first
// start works; no token, a wrong, a revoked or an expired one get 401 with a code; a read-only token
// reads, and every mutating route of the app (listed from its route table) gets 403; repeated
// failures from one address get 429 with Retry-After; the Unix socket needs no token. Topology and
// start-up refusals: plain HTTP off loopback, a TLS file missing, unreadable or not a key pair.
import { execFileSync } from "node:child_process";
import Database from "better-sqlite3";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, type DaemonControl } from "../../src/api/app.js";
import { isMutating } from "../../src/api/remote.js";
import { api, freePort, homeOf, node, openStateDb, project, steward, waitForState } from "./helpers.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** The test CA and the server's certificate, made once, copied into each project. */
let certs = "";
let ca: Buffer;
/** The project of the running test (helpers' afterEach takes each one down and removes it). */
let dir = "";
let port = 0;
let admin = "";

/** A throwaway CA and a certificate it signs for IP 127.0.0.1, in `tls/` of `at`. */
function makeCertificates(tls: string): void {
  const run = (...args: string[]): void => void execFileSync("openssl", args, { cwd: tls, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=steward test CA",
  );
  run("req", ...ec, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(path.join(tls, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  run("x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial");
  run(
    "x509",
    "-req",
    "-in",
    "req.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-out",
    "cert.pem",
  );
}

/** A request over HTTPS to the remote API, the server's certificate checked against the test CA. */
function remote(
  method: string,
  urlPath: string,
  opts: { token?: string; from?: string; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: urlPath,
        ca,
        ...(opts.from ? { localAddress: opts.from } : {}),
        headers: {
          "content-type": "application/json",
          ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          let json: Answer["json"] = {};
          try {
            json = JSON.parse(text) as Answer["json"];
          } catch {
            // an NDJSON stream: not asserted on here
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 10s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

const topology = (p: number, tls = "tls: { cert: tls/cert.pem, key: tls/key.pem }"): string => `
control:
  listen: 127.0.0.1:${p}
  ${tls}
components:
  a:
    command: ${node("forever.js")}
`;

beforeAll(() => {
  certs = fs.mkdtempSync(path.join(os.tmpdir(), "remote-api-certs-"));
  makeCertificates(certs);
  ca = fs.readFileSync(path.join(certs, "ca.pem"));
});

afterAll(() => {
  if (certs) fs.rmSync(certs, { recursive: true, force: true });
});

/** A project with `control:` on HTTPS, up; sets `dir`, `port` and `admin`. */
async function start(): Promise<void> {
  port = await freePort();
  dir = project(topology(port));
  fs.cpSync(certs, path.join(dir, "tls"), { recursive: true });
  const up = await steward(dir, "up");
  expect(up.code, up.stdout + up.stderr).toBe(0);
  admin = fs.readFileSync(path.join(homeOf(dir), "tokens", "admin"), "utf8").trim();
}

describe("the remote API over HTTPS", () => {
  beforeEach(start, 30_000);

  it("writes the admin token at first start to <home>/tokens/admin, 0600 in a 0700 directory", () => {
    const tokens = path.join(homeOf(dir), "tokens");
    expect(fs.statSync(tokens).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(tokens)).toEqual(["admin"]);
    expect(fs.statSync(path.join(tokens, "admin")).mode & 0o777).toBe(0o600);
    expect(admin).toMatch(/^stw_[A-Za-z0-9_-]{43}$/);
    // The store holds a digest, never the token.
    const db = openStateDb(dir);
    const rows = db.prepare("SELECT name, hash FROM tokens").all() as { name: string; hash: string }[];
    db.close();
    expect(rows.map((r) => r.name)).toEqual(["admin"]);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(admin);
  });

  it("answers the admin token over HTTPS, the same API as the socket; the socket needs no token", async () => {
    const res = await remote("GET", "/v1/status", { token: admin });
    expect(res.status).toBe(200);
    const local = await api(dir, "GET", "/v1/status");
    expect(local.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(Object.keys(JSON.parse(local.body) as object).sort());
  });

  it("refuses no token, a malformed header and a wrong token with 401 and a code", async () => {
    const none = await remote("GET", "/v1/status");
    expect([none.status, none.json.error?.code]).toEqual([401, "STW-6001"]);
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="steward"');
    const wrong = await remote("GET", "/v1/status", { token: `stw_${"A".repeat(43)}` });
    expect([wrong.status, wrong.json.error?.code]).toEqual([401, "STW-6002"]);
    // Nothing of a refused mutating call is done.
    const down = await remote("POST", "/v1/down", { token: "nope" });
    expect([down.status, down.json.error?.code]).toEqual([401, "STW-6002"]);
    expect((await api(dir, "GET", "/v1/status")).status).toBe(200);
  });

  it("a read-only token reads, and every mutating route of the app answers 403", async () => {
    const made = await steward(dir, "token", "create", "viewer", "--read-only", "--json");
    expect(made.code, made.stderr).toBe(0);
    const { name, token } = JSON.parse(made.stdout) as { name: string; token: string };
    expect(name).toBe("viewer");
    for (const read of ["/v1/status", "/v1/tokens", "/v1/jobs"]) {
      expect((await remote("GET", read, { token })).status, read).toBe(200);
    }
    // Every route the app declares, from its own table: a new route cannot be forgotten.
    const routes = createApp({} as DaemonControl)
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => ({ method: r.method, path: r.path.replace(/:[A-Za-z_]+/g, "x") }));
    const mutating = routes.filter((r) => isMutating(r.method));
    expect(mutating.length).toBeGreaterThan(15);
    expect(routes.length).toBeGreaterThan(mutating.length);
    expect(mutating.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /v1/down",
        "POST /v1/tokens",
        "POST /v1/tokens/x/revoke",
        "POST /v1/start",
      ]),
    );
    for (const r of mutating) {
      const res = await remote(r.method, r.path, { token, body: "{}" });
      expect([res.status, res.json.error?.code], `${r.method} ${r.path}`).toEqual([403, "STW-6005"]);
    }
    // Nothing changed: no token made, the daemon still up, `a` still running.
    const list = await remote("GET", "/v1/tokens", { token: admin });
    expect((list.json.tokens as { name: string }[]).map((t) => t.name)).toEqual(["admin", "viewer"]);
    expect((await api(dir, "GET", "/v1/status")).status).toBe(200);
  });

  it("token list shows name, access and dates but never a secret; a revoked token gets 401 at once", async () => {
    const made = await steward(dir, "token", "create", "ci", "--expires", "30d", "--json");
    const { token } = JSON.parse(made.stdout) as { token: string };
    expect((await remote("GET", "/v1/status", { token })).status).toBe(200);
    const list = await steward(dir, "token", "list");
    expect(list.stdout).toMatch(/^NAME\s+ACCESS\s+CREATED\s+EXPIRES\s+REVOKED/);
    expect(list.stdout).toMatch(/\nadmin\s+full\s/);
    expect(list.stdout).not.toContain(token);
    expect(list.stdout).not.toContain(admin);
    const json = JSON.parse((await steward(dir, "token", "list", "--json")).stdout) as {
      tokens: Record<string, unknown>[];
    };
    const ci = json.tokens.find((t) => t.name === "ci")!;
    expect(Object.keys(ci).sort()).toEqual(["createdAt", "expiresAt", "name", "readOnly", "revokedAt"]);
    expect(Number(ci.expiresAt) - Number(ci.createdAt)).toBe(30 * 86_400_000);

    const revoke = await steward(dir, "token", "revoke", "ci");
    expect(revoke.code, revoke.stderr).toBe(0);
    const after = await remote("GET", "/v1/status", { token });
    expect([after.status, after.json.error?.code]).toEqual([401, "STW-6003"]);
    const again = await steward(dir, "token", "create", "ci");
    expect([again.code, again.stderr]).toEqual([
      1,
      expect.stringContaining("a token named `ci` exists already"),
    ]);
    const unknown = await steward(dir, "token", "revoke", "cj");
    expect(unknown.stderr).toMatch(/no token named `cj`/);
    const bad = await steward(dir, "token", "create", "x", "--expires", "30");
    expect(bad.stderr).toMatch(/expected a duration like `30d`/);
  });

  it("an expired token gets 401 at once", async () => {
    const made = await steward(dir, "token", "create", "old", "--expires", "1h", "--json");
    const { token } = JSON.parse(made.stdout) as { token: string };
    expect((await remote("GET", "/v1/status", { token })).status).toBe(200);
    // Its expiry moved to the past, in the real store (an hour is too long to wait for).
    const db = new Database(path.join(homeOf(dir), "state.db"));
    db.pragma("busy_timeout = 5000");
    db.prepare("UPDATE tokens SET expires_at = ? WHERE name = 'old'").run(Date.now() - 1);
    db.close();
    const res = await remote("GET", "/v1/status", { token });
    expect([res.status, res.json.error?.code]).toEqual([401, "STW-6004"]);
  });

  it("slows repeated failures from one address: 429 with Retry-After, other addresses unaffected", async () => {
    const from = "127.0.0.2";
    for (let i = 0; i < 10; i++) {
      expect((await remote("GET", "/v1/status", { token: "guess", from })).status).toBe(401);
    }
    const slowed = await remote("GET", "/v1/status", { token: "guess", from });
    expect([slowed.status, slowed.json.error?.code]).toEqual([429, "STW-6006"]);
    const wait = Number(slowed.headers["retry-after"]);
    expect(wait).toBeGreaterThanOrEqual(50);
    expect(wait).toBeLessThanOrEqual(60);
    // Even the right token waits: the limit is on the address, not on the guess.
    expect((await remote("GET", "/v1/status", { token: admin, from })).status).toBe(429);
    expect((await remote("GET", "/v1/status", { token: admin })).status).toBe(200);
  });

  it("bounds bodies as the socket does: 413 for a body over 1 MiB, after the token is checked", async () => {
    const big = JSON.stringify({ components: ["x".repeat(2 << 20)] });
    const refused = await remote("POST", "/v1/start", { token: admin, body: big });
    expect([refused.status, refused.json.error?.code]).toEqual([413, "STW-1016"]);
    const anonymous = await remote("POST", "/v1/start", { body: big });
    expect([anonymous.status, anonymous.json.error?.code]).toEqual([401, "STW-6001"]);
  });

  it("a stream already open ends with the 401's code once its token is revoked; the operation goes on", async () => {
    await steward(dir, "down");
    const go = path.join(dir, "go");
    fs.writeFileSync(go, "");
    fs.appendFileSync(
      path.join(dir, "steward.yaml"),
      `  gated:\n    command: ${node("forever.js")}\n    ready: { exec: "test -f ${go}", interval: 50ms }\n`,
    );
    const up = await steward(dir, "up");
    expect(up.code, up.stderr).toBe(0);
    fs.rmSync(go); // the next start of `gated` waits until the file is back
    const { token } = JSON.parse((await steward(dir, "token", "create", "op", "--json")).stdout) as {
      token: string;
    };
    const lines: string[] = [];
    const ended = new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/v1/restart",
          ca,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => {
            lines.push(...text.trim().split("\n"));
            resolve(Date.now());
          });
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ components: ["gated"] }));
    });
    await new Promise((r) => setTimeout(r, 300));
    const revoked = Date.now();
    expect((await steward(dir, "token", "revoke", "op")).code).toBe(0);
    const at = await ended;
    expect(at - revoked).toBeLessThan(2_500);
    const last = JSON.parse(lines.at(-1)!) as { type: string; error?: { code: string } };
    expect(last).toMatchObject({ type: "error", error: { code: "STW-6003" } });
    expect(lines.some((l) => l.includes('"type":"result"'))).toBe(false);
    // The restart itself was allowed when asked: it completes once `gated` can be ready.
    fs.writeFileSync(go, "");
    expect((await waitForState(dir, "gated", "ready")).state).toBe("ready");
  });
});

describe("refusals before the listener starts", () => {
  it("plain HTTP off loopback is a located topology error unless `insecure: true`", async () => {
    const d = project(
      `control:\n  listen: 0.0.0.0:7400\ncomponents:\n  a:\n    command: ${node("forever.js")}\n`,
    );
    const res = await steward(d, "validate");
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /steward\.yaml:2:11: `control\.listen`: the remote API on 0\.0\.0\.0:7400 would carry tokens in clear text/,
    );
  });

  it("with `insecure: true` the same listener validates", async () => {
    const d = project(
      `control:\n  listen: 0.0.0.0:7400\n  insecure: true\ncomponents:\n  a:\n    command: ${node("forever.js")}\n`,
    );
    const res = await steward(d, "validate");
    expect(res.code, res.stderr).toBe(0);
  });

  it("a missing TLS file: the daemon refuses to start, naming the file", async () => {
    const p = await freePort();
    const d = project(topology(p, "tls: { cert: tls/none.pem, key: tls/key.pem }"));
    const up = await steward(d, "up");
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain(`control.tls.cert: ${path.join(d, "tls", "none.pem")} does not exist`);
    expect(fs.existsSync(path.join(homeOf(d), "steward.sock"))).toBe(false);
  });

  it("an unreadable TLS file or a pair that is no certificate and key: refused, naming the files", async () => {
    const p = await freePort();
    const d = project(topology(p));
    fs.mkdirSync(path.join(d, "tls"));
    fs.mkdirSync(path.join(d, "tls", "key.pem")); // a directory: exists, cannot be read as a file
    fs.cpSync(path.join(certs, "cert.pem"), path.join(d, "tls", "cert.pem"));
    const unreadable = await steward(d, "up");
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toContain(
      `control.tls.key: ${path.join(d, "tls", "key.pem")} cannot be read (EISDIR`,
    );
    fs.rmdirSync(path.join(d, "tls", "key.pem"));
    fs.writeFileSync(path.join(d, "tls", "key.pem"), "not a key\n");
    const garbage = await steward(d, "up");
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toContain(
      `control.tls: ${path.join(d, "tls", "cert.pem")} and ${path.join(d, "tls", "key.pem")} are not a usable PEM certificate and its private key`,
    );
  });
});
