/**
 * @module store/query-builders
 * kysely instances that only build and compile SQL for each backend (their `DummyDriver` runs
 * nothing). Used at build time — by the test that keeps `./compiled-queries.ts` fresh — never by a
 * running daemon, which reads the compiled text instead of loading kysely.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";

import { buildQueries, type CompiledQueries } from "./queries.js";
import type { StoreTables } from "./schema.js";

export function sqliteQueryBuilder(): Kysely<StoreTables> {
  return new Kysely<StoreTables>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}

export function pgQueryBuilder(): Kysely<StoreTables> {
  return new Kysely<StoreTables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/** Both backends' statements, compiled now: what `./compiled-queries.ts` must hold. */
export function compileAll(): { sqlite: CompiledQueries; postgres: CompiledQueries } {
  return {
    sqlite: buildQueries(sqliteQueryBuilder(), "binary"),
    postgres: buildQueries(pgQueryBuilder(), "C"),
  };
}

/** The source text of `./compiled-queries.ts`. */
export function compiledQueriesModule(): string {
  const { sqlite, postgres } = compileAll();
  return `/**
 * @module store/compiled-queries
 * GENERATED from ./queries.ts (kysely) — do not edit. \`test/store/queries.test.ts\` fails when this
 * file differs from a fresh compile; regenerate with
 * \`STEWARD_WRITE_QUERIES=1 npx vitest run test/store/queries.test.ts\`.
 */
import type { CompiledQueries } from "./queries.js";

export const SQLITE: CompiledQueries = ${JSON.stringify(sqlite, null, 2)};

export const POSTGRES: CompiledQueries = ${JSON.stringify(postgres, null, 2)};
`;
}
