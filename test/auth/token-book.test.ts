// Tokens against a real (in-memory) SQLite store, and the failure limiter's window.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailureLimiter } from "../../src/auth/failure-limiter.js";
import { hashToken, sameDigest } from "../../src/auth/secret.js";
import { parseExpires, TokenBook } from "../../src/auth/token-book.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

let store: SqliteStore;
let now = 1_000_000;
let book: TokenBook;

beforeEach(() => {
  now = 1_000_000;
  store = SqliteStore.open(":memory:");
  book = new TokenBook(store, () => now);
});
afterEach(async () => store.close());

describe("TokenBook", () => {
  it("creates a token, stores only its digest, and authenticates it until revoked", async () => {
    const { token } = await book.create("ci", { readOnly: true });
    const [stored] = await store.listTokens();
    expect(stored).toEqual({
      name: "ci",
      hash: hashToken(token),
      readOnly: true,
      createdAt: now,
      expiresAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(stored)).not.toContain(token);
    expect((await book.authenticate(token)).name).toBe("ci");
    await expect(book.authenticate(`${token}x`)).rejects.toMatchObject({ code: "STW-6002" });
    now += 5;
    expect(await book.revoke("ci")).toMatchObject({ name: "ci", revokedAt: now });
    await expect(book.authenticate(token)).rejects.toMatchObject({ code: "STW-6003", httpStatus: 401 });
    now += 5;
    expect((await book.revoke("ci")).revokedAt).toBe(now - 5); // the first revocation is kept
  });

  it("refuses an expired token at its expiry, a taken name, a bad name and an unknown one", async () => {
    const { token } = await book.create("short", { expiresInMs: 1000 });
    now += 999;
    expect((await book.authenticate(token)).name).toBe("short");
    now += 1;
    await expect(book.authenticate(token)).rejects.toMatchObject({ code: "STW-6004" });
    await expect(book.create("short")).rejects.toMatchObject({ code: "STW-6007", httpStatus: 409 });
    await expect(book.create("9lives")).rejects.toMatchObject({ code: "STW-6011", httpStatus: 400 });
    await expect(book.revoke("shrot")).rejects.toMatchObject({
      code: "STW-6008",
      message: "no token named `shrot`; tokens: `short`",
    });
    expect(await book.list()).toEqual([
      { name: "short", readOnly: false, createdAt: 1_000_000, expiresAt: 1_001_000, revokedAt: null },
    ]);
  });

  it("writes the admin token once, 0600 in a 0700 directory", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "token-book-"));
    try {
      const file = await book.ensureAdmin(home);
      expect(file).toBe(path.join(home, "tokens", "admin"));
      expect(fs.statSync(file!).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file!)).mode & 0o777).toBe(0o700);
      const token = fs.readFileSync(file!, "utf8").trim();
      expect((await book.authenticate(token)).name).toBe("admin");
      expect(await book.ensureAdmin(home)).toBeUndefined();
      expect(fs.readFileSync(file!, "utf8").trim()).toBe(token);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("parseExpires and sameDigest", () => {
  it("reads m, h, d, w up to 3650 days; refuses anything else", () => {
    expect(parseExpires("30d")).toBe(30 * 86_400_000);
    expect(parseExpires("90m")).toBe(90 * 60_000);
    expect(parseExpires("2w")).toBe(14 * 86_400_000);
    for (const bad of ["30", "0d", "3651d", "1y", "1.5h", ""])
      expect(() => parseExpires(bad), bad).toThrow(/expected a duration like `30d`/);
  });

  it("compares digests, refusing malformed ones", () => {
    const d = hashToken("a");
    expect(sameDigest(d, hashToken("a"))).toBe(true);
    expect(sameDigest(d, hashToken("b"))).toBe(false);
    expect(sameDigest(d, "zz")).toBe(false);
  });
});

describe("FailureLimiter", () => {
  it("after maxFailures in the window, waits until the oldest leaves it; other addresses are free", () => {
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 10_000 });
    l.fail("a", 0);
    l.fail("a", 4_000);
    expect(l.retryAfterS("a", 4_000)).toBe(0);
    l.fail("a", 5_000);
    expect(l.retryAfterS("a", 5_000)).toBe(5); // the failure at 0 leaves the window at 10 s
    expect(l.retryAfterS("b", 5_000)).toBe(0);
    expect(l.retryAfterS("a", 9_999)).toBe(1);
    expect(l.retryAfterS("a", 10_000)).toBe(0);
  });
});
