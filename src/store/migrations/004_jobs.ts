/**
 * @module store/migrations/004_jobs
 * Job runs and maintenance mode (`../records.ts` JobRunRecord, MaintenanceRecord). A run is written
 * when it starts and again when it ends; a run still `running` after a crash is re-adopted by pid and
 * start time, or marked `lost`. `maintenance` holds one row (`id = 1`) while maintenance is on: the
 * components it took offline and the job schedules it paused, as JSON lists, so `maintenance off`
 * restores exactly those, also after a daemon crash or a `steward down`.
 */
import type { Migration } from "./migration.js";

export const jobs: Migration = {
  version: 4,
  name: "jobs",
  sql: `
CREATE TABLE job_runs (
  id          TEXT    NOT NULL PRIMARY KEY,
  job         TEXT    NOT NULL,
  trigger     TEXT    NOT NULL CHECK (trigger IN ('manual', 'schedule')),
  state       TEXT    NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled', 'lost')),
  pid         INTEGER,
  pgid        INTEGER,
  start_time  BIGINT,
  started_at  BIGINT  NOT NULL,
  finished_at BIGINT,
  exit_code   INTEGER,
  signal      TEXT,
  reason      TEXT,
  log_file    TEXT    NOT NULL
);

CREATE INDEX job_runs_job ON job_runs (job, started_at);

CREATE TABLE maintenance (
  id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  components       TEXT    NOT NULL,
  paused_schedules TEXT    NOT NULL,
  started_at       BIGINT  NOT NULL,
  updated_at       BIGINT  NOT NULL
);
`,
};
