/**
 * @module store/migrations
 * Every schema migration, in order. To change the schema, add `00N_<name>.ts` exporting a
 * `Migration` with the next version and append it here; never edit one that has shipped.
 */
import { initial } from "./001_initial.js";
import { operations } from "./002_operations.js";
import { daemonHandover } from "./003_daemon_handover.js";
import { jobs } from "./004_jobs.js";
import { patching } from "./005_patching.js";
import { tokens } from "./006_tokens.js";
import type { Migration } from "./migration.js";

export { assertWellFormed, SCHEMA_MIGRATIONS_DDL, type Migration } from "./migration.js";

export const MIGRATIONS: readonly Migration[] = [initial, operations, daemonHandover, jobs, patching, tokens];

/** The schema version a store has once every migration has run. */
export const LATEST_VERSION: number = MIGRATIONS.length;
