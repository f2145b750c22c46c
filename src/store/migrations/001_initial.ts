/**
 * @module store/migrations/001_initial
 * The daemon, component and replica state records (`../records.ts`). Timestamps are epoch
 * milliseconds (BIGINT). `replica_index` because `index` is an SQL keyword.
 *
 * `replicas.state` has no CHECK on its values: adding a replica state must not need a table rebuild
 * (SQLite cannot alter a CHECK). There is no foreign key from `replicas` to `components`: a
 * component record is what the operator asked for and may be written later than its replicas.
 * `NOT NULL` is spelt out on text primary keys because SQLite would otherwise accept NULL there.
 */
import type { Migration } from "./migration.js";

export const initial: Migration = {
  version: 1,
  name: "initial",
  sql: `
CREATE TABLE daemon (
  id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  state         TEXT    NOT NULL CHECK (state IN ('active', 'stopped')),
  pid           INTEGER NOT NULL,
  instance      INTEGER NOT NULL,
  boot_kind     TEXT    NOT NULL CHECK (boot_kind IN ('clean', 'recovered')),
  booted_at     BIGINT  NOT NULL,
  topology_file TEXT    NOT NULL,
  updated_at    BIGINT  NOT NULL
);

CREATE TABLE components (
  name       TEXT   NOT NULL PRIMARY KEY,
  desired    TEXT   NOT NULL CHECK (desired IN ('running', 'stopped', 'offline')),
  updated_at BIGINT NOT NULL
);

CREATE TABLE replicas (
  component     TEXT    NOT NULL,
  replica_index INTEGER NOT NULL CHECK (replica_index >= 0),
  state         TEXT    NOT NULL,
  pid           INTEGER,
  pgid          INTEGER,
  start_time    BIGINT,
  port          INTEGER CHECK (port BETWEEN 1 AND 65535),
  restarts      INTEGER NOT NULL CHECK (restarts >= 0),
  last_exit     TEXT,
  invalidated   INTEGER NOT NULL CHECK (invalidated IN (0, 1)),
  reason        TEXT,
  updated_at    BIGINT  NOT NULL,
  PRIMARY KEY (component, replica_index)
);
`,
};
