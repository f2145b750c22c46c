/**
 * @module store/migrations/006_tokens
 * API tokens of the remote listener (design §8, `../records.ts` TokenRecord). Only a digest of each
 * token is kept (`hash`, hex SHA-256 of the secret), never the token. A revoked token keeps its row,
 * so `token list` shows it and its name cannot be silently reused.
 */
import type { Migration } from "./migration.js";

export const tokens: Migration = {
  version: 6,
  name: "tokens",
  sql: `
CREATE TABLE tokens (
  name       TEXT    NOT NULL PRIMARY KEY,
  hash       TEXT    NOT NULL,
  read_only  INTEGER NOT NULL CHECK (read_only IN (0, 1)),
  created_at BIGINT  NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
`,
};
