/**
 * @module store/query
 * Queries built with kysely and compiled per backend at build time (`./compiled-queries.ts`, kept
 * fresh by a test), then run many times with values taken from a row. Loading kysely costs the
 * daemon ~80–115 ms at every start (measured); the compiled text costs nothing. A value that varies from run to run is a *slot*: a placeholder object kysely
 * compiles to a positional parameter (`?` for SQLite, `$n` for PostgreSQL); `bind` fills each slot
 * from the row's field of the same name. Constant values stay as kysely compiled them.
 */
import type { CompiledQuery } from "kysely";

/** A parameter filled at run time from the field `name` of the values given to `bind`. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * A placeholder for the field `name`, typed as the column it stands for so the query builder
 * accepts it.
 *
 * @example db.selectFrom("operation_steps").where("operation_id", "=", slot<string>("operation_id"))
 */
export function slot<T>(name: string): T {
  return new Slot(name) as unknown as T;
}

/** A row of placeholders, one per column, for `insertInto(…).values(slots(columns))`. */
export function slots<R extends object>(columns: readonly (keyof R & string)[]): R {
  return Object.fromEntries(columns.map((c) => [c, new Slot(c)])) as R;
}

/** A parameter of a compiled statement: filled from a row's field, or a constant. */
export type CompiledParameter = { slot: string } | { value: string | number | null };

/** A statement as kysely compiled it, in a form that can be written to a module (`./compiled-queries.ts`). */
export interface CompiledStatement {
  sql: string;
  parameters: CompiledParameter[];
}

/** Turns kysely's compiled query into a `CompiledStatement`. */
export function toCompiled(compiled: CompiledQuery<unknown>): CompiledStatement {
  return {
    sql: compiled.sql,
    parameters: compiled.parameters.map((p) =>
      p instanceof Slot ? { slot: p.name } : { value: p as string | number | null },
    ),
  };
}

/**
 * One compiled statement. `P` is what `bind` reads the slots from; `R` is the row it returns.
 */
export interface StoreQuery<P extends object, R = never> {
  /** The SQL as the backend's kysely compiler emitted it. */
  readonly sql: string;
  /** Parameter values for one run, in placeholder order. */
  bind(values: P): unknown[];
  /** Phantom: the row type a SELECT returns. */
  readonly row?: R;
}

/** A runnable statement from a compiled one: `bind` fills every slot from the row. */
export function storeQuery<P extends object, R = never>(compiled: CompiledStatement): StoreQuery<P, R> {
  const parameters = compiled.parameters;
  return {
    sql: compiled.sql,
    bind: (values: P) =>
      parameters.map((p) => ("slot" in p ? (values as Record<string, unknown>)[p.slot] : p.value)),
  };
}
