/**
 * @module store/migrations/002_operations
 * The operation journal (`../records.ts` OperationRecord, OperationStepRecord): an operation is
 * written before its first step and again when it ends; each step before it runs and after it
 * finishes. `plan` and `targets` are JSON text. No foreign key from steps to operations: a batch
 * may carry a step before its operation's first write in the same transaction order.
 */
import type { Migration } from "./migration.js";

export const operations: Migration = {
  version: 2,
  name: "operations",
  sql: `
CREATE TABLE operations (
  id          TEXT    NOT NULL PRIMARY KEY,
  kind        TEXT    NOT NULL,
  targets     TEXT    NOT NULL,
  plan        TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  instance    INTEGER NOT NULL,
  resumes     INTEGER NOT NULL CHECK (resumes >= 0),
  started_at  BIGINT  NOT NULL,
  finished_at BIGINT,
  error       TEXT
);

CREATE INDEX operations_status ON operations (status, started_at);

CREATE TABLE operation_steps (
  operation_id  TEXT    NOT NULL,
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  phase         INTEGER NOT NULL CHECK (phase >= 0),
  name          TEXT    NOT NULL,
  component     TEXT    NOT NULL,
  replica_index INTEGER CHECK (replica_index >= 0),
  status        TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  started_at    BIGINT  NOT NULL,
  finished_at   BIGINT,
  detail        TEXT,
  PRIMARY KEY (operation_id, seq)
);
`,
};
