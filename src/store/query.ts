/**
 * @module store/query
 * Queries built once with kysely and compiled once per backend, then run many times with values
 * taken from a row. A value that varies from run to run is a *slot*: a placeholder object kysely
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

/** Wraps a compiled kysely query; every `Slot` among its parameters is filled by `bind`. */
export function storeQuery<P extends object, R = never>(compiled: CompiledQuery<unknown>): StoreQuery<P, R> {
  const parameters = compiled.parameters;
  return {
    sql: compiled.sql,
    bind: (values: P) =>
      parameters.map((p) => (p instanceof Slot ? (values as Record<string, unknown>)[p.name] : p)),
  };
}
