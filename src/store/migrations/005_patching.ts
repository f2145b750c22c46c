/**
 * @module store/migrations/005_patching
 * The history of online patching (design §6; `../records.ts` PatchSessionRecord,
 * PatchApplicationRecord, PatchEditionRecord), per node: each session with the state of its phases
 * and its cutover plan, each patch applied within a session with the steps it completed (a re-run
 * resumes after them), and what each edition directory holds. A session is written when it opens
 * and at every phase change; nothing here is volatile: `clearVolatile` keeps all of it.
 *
 * `phases`, `plan` and `patches` are JSON text, NOT NULL: a value the mapping cannot write becomes
 * SQL NULL and is refused; "no plan yet" is the JSON text `null`. Edition names (`fs1`, `fs2`) have
 * no CHECK: the layout under `patching.root` fixes them, not the store. No foreign key from
 * applications to sessions: a batch may carry an application before its session's first write.
 */
import type { Migration } from "./migration.js";

export const patching: Migration = {
  version: 5,
  name: "patching",
  sql: `
CREATE TABLE patch_sessions (
  id            INTEGER NOT NULL CHECK (id >= 1),
  node          TEXT    NOT NULL,
  kind          TEXT    NOT NULL CHECK (kind IN ('cycle', 'fs-clone')),
  status        TEXT    NOT NULL CHECK (status IN ('open', 'cutover-rolled-back', 'completed', 'aborted')),
  run_edition   TEXT    NOT NULL,
  patch_edition TEXT    NOT NULL,
  phases        TEXT    NOT NULL,
  plan          TEXT    NOT NULL,
  reason        TEXT,
  started_at    BIGINT  NOT NULL,
  finished_at   BIGINT,
  updated_at    BIGINT  NOT NULL,
  PRIMARY KEY (id, node)
);

CREATE TABLE patch_applications (
  session          INTEGER NOT NULL CHECK (session >= 1),
  node             TEXT    NOT NULL,
  patch_id         TEXT    NOT NULL,
  edition          TEXT    NOT NULL,
  seq              INTEGER NOT NULL CHECK (seq >= 1),
  kind             TEXT    NOT NULL CHECK (kind IN ('sync', 'apply')),
  state            TEXT    NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  steps_done       INTEGER NOT NULL CHECK (steps_done >= 0),
  steps_total      INTEGER NOT NULL CHECK (steps_total >= 0),
  errors_tolerated INTEGER NOT NULL CHECK (errors_tolerated IN (0, 1)),
  log_dir          TEXT    NOT NULL,
  detail           TEXT,
  started_at       BIGINT  NOT NULL,
  finished_at      BIGINT,
  PRIMARY KEY (session, node, patch_id)
);

CREATE INDEX patch_applications_node ON patch_applications (node, session, seq);

CREATE TABLE patch_editions (
  node         TEXT    NOT NULL,
  edition      TEXT    NOT NULL,
  patches      TEXT    NOT NULL,
  needs_resync INTEGER NOT NULL CHECK (needs_resync IN (0, 1)),
  updated_at   BIGINT  NOT NULL,
  PRIMARY KEY (node, edition)
);
`,
};
