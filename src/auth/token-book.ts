/**
 * @module auth/token-book
 * The API tokens of a home (design §8): created, listed, revoked and checked against the state
 * store, so a revocation holds at once and survives a restart. The admin token is made at the first
 * start into `<home>/tokens/admin` (0600, in a 0700 directory); every other token is shown once, to
 * whoever created it, and stored nowhere but as a digest.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TokenRecord } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";
import {
  TokenExpiredError,
  TokenInvalidError,
  TokenNameTakenError,
  TokenRequestError,
  TokenRevokedError,
  UnknownTokenError,
} from "./errors.js";
import { hashToken, newToken, sameDigest } from "./secret.js";

/** Token names: a letter, then letters, digits, `_`, `-` or `.` (at most 64). */
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Ten years: `expires` is for tokens that should die; beyond this, leave it out. */
const MAX_EXPIRES_MS = 3650 * 86_400_000;

/** A token as `token list` shows it: never its secret nor its digest. */
export interface TokenInfo {
  name: string;
  readOnly: boolean;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

/**
 * `--expires 30d` → milliseconds: a whole number and `m`, `h`, `d` or `w`.
 * @example parseExpires("30d") // 2592000000
 */
export function parseExpires(text: string): number {
  const m = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(ms > 0 && ms <= MAX_EXPIRES_MS))
    throw new TokenRequestError(
      `\`expires\`: expected a duration like \`30d\`, \`12h\` or \`2w\` (at most 3650d), got \`${text}\``,
      { expires: text },
    );
  return ms;
}

export class TokenBook {
  constructor(
    readonly store: Pick<StateStore, "listTokens" | "commit">,
    readonly now: () => number = Date.now,
  ) {}

  /** Creates token `name`; the token is in the answer only. */
  async create(
    name: string,
    opts: { readOnly?: boolean; expiresInMs?: number } = {},
    secret: { token: string; hash: string } = newToken(),
  ): Promise<{ name: string; token: string }> {
    if (!NAME.test(name))
      throw new TokenRequestError(
        `invalid token name \`${name}\`: use a letter, then letters, digits, \`_\`, \`-\` or \`.\` (at most 64)`,
        { token: name },
      );
    if ((await this.store.listTokens()).some((t) => t.name === name)) throw new TokenNameTakenError(name);
    const { token, hash } = secret;
    const createdAt = this.now();
    const record: TokenRecord = {
      name,
      hash,
      readOnly: opts.readOnly ?? false,
      createdAt,
      expiresAt: opts.expiresInMs === undefined ? null : createdAt + opts.expiresInMs,
      revokedAt: null,
    };
    await this.store.commit({ tokens: [record] });
    return { name, token };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.store.listTokens()).map(({ name, readOnly, createdAt, expiresAt, revokedAt }) => ({
      name,
      readOnly,
      createdAt,
      expiresAt,
      revokedAt,
    }));
  }

  /** Revokes `name` (again is harmless: the first time is kept). */
  async revoke(name: string): Promise<TokenInfo> {
    const tokens = await this.store.listTokens();
    const found = tokens.find((t) => t.name === name);
    if (!found)
      throw new UnknownTokenError(
        name,
        tokens.map((t) => t.name),
      );
    const record = found.revokedAt === null ? { ...found, revokedAt: this.now() } : found;
    if (record !== found) await this.store.commit({ tokens: [record] });
    const { hash: _hash, ...info } = record;
    return info;
  }

  /**
   * The record of `token`, read from the store on every call so a revocation holds at once.
   * Every stored digest is compared, in constant time, whatever matched first.
   * @throws TokenInvalidError, TokenRevokedError, TokenExpiredError (401)
   */
  async authenticate(token: string): Promise<TokenRecord> {
    const digest = hashToken(token);
    let match: TokenRecord | undefined;
    for (const t of await this.store.listTokens()) if (sameDigest(digest, t.hash)) match = t;
    if (!match) throw new TokenInvalidError();
    if (match.revokedAt !== null) throw new TokenRevokedError(match.name, match.revokedAt);
    if (match.expiresAt !== null && match.expiresAt <= this.now())
      throw new TokenExpiredError(match.name, match.expiresAt);
    return match;
  }

  /**
   * At the first start (no `admin` token in the store): creates it and writes it to
   * `<home>/tokens/admin`, mode 0600 in a 0700 directory. Returns the file when one was written.
   */
  async ensureAdmin(home: string): Promise<string | undefined> {
    if ((await this.store.listTokens()).some((t) => t.name === "admin")) return undefined;
    const dir = join(home, "tokens");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // an existing directory too
    const file = join(dir, "admin");
    // The file first: a token in the store that no file holds would be lost for good.
    const secret = newToken();
    writeFileSync(`${file}.tmp`, `${secret.token}\n`, { mode: 0o600 });
    chmodSync(`${file}.tmp`, 0o600); // the mode applies only to a new file
    await this.create("admin", {}, secret);
    renameSync(`${file}.tmp`, file);
    return file;
  }
}
