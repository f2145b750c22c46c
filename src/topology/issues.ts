/**
 * @module topology/issues
 * Turns zod issues into located, helpful problems: an unknown key names the nearest valid key, a
 * wrong type says what was expected and what was received, a missing key says so.
 */
import type * as z from "zod";
import type { PathIssue } from "./locate.js";
import { didYouMean } from "./suggest.js";
import { describeValue } from "./values.js";

type ZodIssue = z.core.$ZodIssue;
interface SchemaDef {
  type: string;
  innerType?: SchemaLike;
  in?: SchemaLike;
  shape?: Record<string, SchemaLike>;
  valueType?: SchemaLike;
  element?: SchemaLike;
  options?: SchemaLike[];
}
interface SchemaLike {
  _zod: { def: unknown };
}

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping",
  record: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "`true` or `false`",
};

/** The value at `path` in plain data, and whether its parent has that key at all. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): { value: unknown; present: boolean } {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, seg))
      return { value: undefined, present: false };
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return { value: v, present: true };
}

function def(s: SchemaLike): SchemaDef {
  return s._zod.def as SchemaDef;
}

function unwrap(s: SchemaLike): SchemaLike {
  for (;;) {
    const d = def(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else return s;
  }
}

function objectOf(s: SchemaLike): SchemaDef | undefined {
  const d = def(unwrap(s));
  if (d.type === "object") return d;
  if (d.type === "union") return d.options?.map((o) => def(unwrap(o))).find((o) => o.type === "object");
  return undefined;
}

/** The keys a strict object accepts at `path` of `schema`. */
export function knownKeysAt(schema: SchemaLike, path: readonly PropertyKey[]): string[] {
  let s: SchemaLike | undefined = schema;
  for (const seg of path) {
    if (!s) return [];
    const d = def(unwrap(s));
    if (d.type === "record") s = d.valueType;
    else if (d.type === "array") s = d.element;
    else s = objectOf(s)?.shape?.[String(seg)];
  }
  return s ? Object.keys(objectOf(s)?.shape ?? {}) : [];
}

/**
 * Maps zod issues found while validating `data` against `schema` to problems with key paths.
 * `data` is the validated input, used to describe received values and detect missing keys.
 */
export function fromZodIssues(issues: readonly ZodIssue[], data: unknown, schema: SchemaLike): PathIssue[] {
  const out: PathIssue[] = [];
  const add = (list: readonly ZodIssue[], base: readonly PropertyKey[]): void => {
    for (const issue of list) {
      const path = [...base, ...issue.path];
      if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(schema, path);
        for (const key of issue.keys) {
          const near = didYouMean(key, known);
          const hint = near
            ? `; did you mean \`${near}\`?`
            : known.length
              ? `; valid keys here: ${known.join(", ")}`
              : "";
          out.push({ path: [...path, key], at: "key", message: `unknown key \`${key}\`${hint}` });
        }
        continue;
      }
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        const branch = pickBranch(issue.errors);
        if (branch) add(branch, path);
        else out.push({ path, message: `${issue.message}, got ${describeValue(valueAt(data, path).value)}` });
        continue;
      }
      const { value, present } = valueAt(data, path);
      const parent = valueAt(data, path.slice(0, -1));
      const last = path[path.length - 1];
      if (!present && parent.present && isPlainObject(parent.value) && last !== undefined) {
        out.push({ path, message: `missing required key \`${String(last)}\`` });
      } else if (issue.code === "invalid_key") {
        const why = issue.issues[0]?.message ?? issue.message;
        out.push({ path, at: "key", message: `invalid name \`${String(last)}\`: ${why}` });
      } else if (issue.code === "invalid_type") {
        const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
        out.push({ path, message: `expected ${expected}, got ${describeValue(value)}` });
      } else {
        out.push({ path, message: issue.message });
      }
    }
  };
  add(issues, []);
  return out;
}

/**
 * The union branch to report: the one that got past the type of the value itself (its issues are
 * deeper, or about the value rather than its type); `undefined` when every branch refused the type.
 */
function pickBranch(branches: readonly ZodIssue[][]): ZodIssue[] | undefined {
  const typeOnly = (b: ZodIssue[]): boolean =>
    b.every((i) => i.path.length === 0 && i.code === "invalid_type");
  const candidates = branches.filter((b) => !typeOnly(b));
  return candidates.length === 1 ? candidates[0] : candidates.find((b) => b.every((i) => i.path.length > 0));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
