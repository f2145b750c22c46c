/**
 * @module auth/secret
 * Token secrets and their digests. A token is `stw_` and 32 random bytes (base64url); the store
 * keeps only its SHA-256. A fast hash is enough here, unlike for passwords: with 256 random bits
 * there is nothing to guess from a leaked digest, so a slow KDF (scrypt, argon2) would only add
 * milliseconds to every request. Digests are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const TOKEN_PREFIX = "stw_";

/** A new token and the hex digest to store. */
export function newToken(): { token: string; hash: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, hash: hashToken(token) };
}

/** Hex SHA-256 of `token`. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time equality of two hex digests (false, not a throw, for a malformed stored one). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}
