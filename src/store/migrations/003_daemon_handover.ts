/**
 * @module store/migrations/003_daemon_handover
 * `steward daemon restart` hands the application over to a new daemon without stopping it: the old
 * daemon leaves its record in state `handover`, and the new one boots with kind `handover` (same
 * instance count, replicas re-adopted). SQLite cannot alter a CHECK constraint, so the table is
 * rebuilt — in portable SQL that PostgreSQL runs as well.
 */
import type { Migration } from "./migration.js";

export const daemonHandover: Migration = {
  version: 3,
  name: "daemon_handover",
  sql: `
CREATE TABLE daemon_next (
  id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  state         TEXT    NOT NULL CHECK (state IN ('active', 'stopped', 'handover')),
  pid           INTEGER NOT NULL,
  instance      INTEGER NOT NULL,
  boot_kind     TEXT    NOT NULL CHECK (boot_kind IN ('clean', 'recovered', 'handover')),
  booted_at     BIGINT  NOT NULL,
  topology_file TEXT    NOT NULL,
  updated_at    BIGINT  NOT NULL
);

INSERT INTO daemon_next (id, state, pid, instance, boot_kind, booted_at, topology_file, updated_at)
  SELECT id, state, pid, instance, boot_kind, booted_at, topology_file, updated_at FROM daemon;

DROP TABLE daemon;

ALTER TABLE daemon_next RENAME TO daemon;
`,
};
