/**
 * @module test/store/contract-tokens
 * The tokens part of the store contract (`./contract.ts`): a token is written with the rest of a
 * batch, listed by name in code-point order with every field as written, and a revocation (the record
 * written again with `revokedAt`) replaces it; `clearVolatile` keeps every token.
 */
import { describe, expect, it } from "vitest";

import type { TokenRecord } from "../../src/store/records.js";
import type { StateStore } from "../../src/store/state-store.js";
import { T0 } from "./fixtures/records.js";

function token(name: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    name,
    hash: "ab".repeat(32),
    readOnly: false,
    createdAt: T0,
    expiresAt: null,
    revokedAt: null,
    ...over,
  };
}

/** Registers the token cases; `current` returns the fresh store of the running case. */
export function tokensContract(current: () => StateStore): void {
  describe("tokens", () => {
    it("lists none on a fresh store", async () => {
      expect(await current().listTokens()).toStrictEqual([]);
    });

    it("lists tokens by name in code-point order, every field as written", async () => {
      const store = current();
      const ci = token("ci", { readOnly: true, expiresAt: T0 + 86_400_000, hash: "cd".repeat(32) });
      const admin = token("admin");
      const upper = token("Zed", { createdAt: T0 + 5 });
      await store.commit({ tokens: [ci, admin, upper] });
      expect(await store.listTokens()).toStrictEqual([upper, admin, ci]);
    });

    it("a revocation replaces the record, and clearVolatile keeps it", async () => {
      const store = current();
      await store.commit({ tokens: [token("ci")] });
      await store.commit({ tokens: [token("ci", { revokedAt: T0 + 9 })] });
      await store.clearVolatile();
      expect(await store.listTokens()).toStrictEqual([token("ci", { revokedAt: T0 + 9 })]);
    });
  });
}
