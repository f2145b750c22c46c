/**
 * @module patching/manifest
 * `patch.yaml`, the manifest of a patch (design §6), validated as strictly as the topology file:
 * every problem reported together, each at file:line:column with its key path, an unknown key
 * naming the nearest valid one. Defaults (empty lists) are applied here, once.
 *
 * ```yaml
 * id: engine-greeting-v2                 # [A-Za-z0-9][A-Za-z0-9._-]{0,63}
 * description: Engine answers with a v2 greeting
 * requires: [base-fix]                   # patch ids the edition must already hold
 * delete: [old/unused.js]                # relative to the edition root
 * steps: [node build.js, [node, migrate.js, --up]]
 * verify: [node test/smoke.js]
 * ```
 */
import { isAlias, LineCounter, parseDocument, visit, type Document } from "yaml";
import * as z from "zod";
import { fromZodIssues } from "../topology/issues.js";
import { formatPath, locate, type PathIssue } from "../topology/locate.js";
import { command } from "../topology/values-process.js";
import { describeValue, leaf, text } from "../topology/values.js";
import { InvalidPatchError, type PatchIssue } from "./errors.js";
import { checkEditionPath } from "./edition-path.js";
import { PATCH_ID, type PatchManifest } from "./checked-patch.js";

export { PATCH_ID, type PatchManifest };

/** Largest `patch.yaml` read: a manifest is a few lines; more is a mistake or an attack. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Alias expansions allowed while reading `patch.yaml` (a manifest needs none; a bomb needs millions). */
const MAX_ALIASES = 100;

const patchId = leaf<string>((v) =>
  typeof v === "string" && PATCH_ID.test(v)
    ? { value: v }
    : {
        problem: `expected a patch id like \`engine-greeting-v2\` (a letter or digit, then at most 63 letters, digits, \`.\`, \`_\` or \`-\`), got ${describeValue(v)}`,
      },
);

const editionPath = leaf<string>((v) => {
  if (typeof v !== "string")
    return { problem: `expected a path relative to the edition root, got ${describeValue(v)}` };
  return checkEditionPath(v);
});

/** The schema of `patch.yaml` as written (strict: an unknown key is an error). */
export const manifestSchema = z.strictObject({
  id: patchId,
  description: text,
  requires: z.array(patchId).optional(),
  delete: z.array(editionPath).optional(),
  steps: z.array(command).optional(),
  verify: z.array(command).optional(),
});

/** Checks across keys, run even when the schema found problems (so all are reported together). */
function crossChecks(data: Record<string, unknown>): PathIssue[] {
  const { id, requires } = data;
  if (typeof id !== "string" || !PATCH_ID.test(id) || !Array.isArray(requires)) return [];
  return requires.flatMap((r, i) =>
    r === id ? [{ path: ["requires", i], message: `a patch cannot require itself (\`${id}\`)` }] : [],
  );
}

/**
 * Validates `patch.yaml` text as if read from `file` (used only to locate messages).
 * @throws InvalidPatchError listing every problem (YAML syntax, unknown keys, wrong types, a bad
 *   id, a `delete` path outside the edition, a patch requiring itself).
 * @example
 * parseManifest("id: fix-1\ndescription: a fix\nsteps: [node build.js]\n", "fix-1/patch.yaml")
 * // { id: "fix-1", description: "a fix", requires: [], delete: [], steps: ["node build.js"], verify: [] }
 */
export function parseManifest(source: string, file: string): PatchManifest {
  const lines = new LineCounter();
  const at = (offset: number, message: string): PatchIssue => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, path: "", message };
  };
  const size = Buffer.byteLength(source);
  if (size > MAX_MANIFEST_BYTES)
    throw new InvalidPatchError(file, [
      {
        file,
        line: 0,
        column: 0,
        path: "",
        message: `patch.yaml is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have; steps that need data should read it from files/`,
      },
    ]);
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const byLine = new Map<number, PatchIssue>();
    for (const e of doc.errors) {
      const issue = at(e.pos[0], `YAML syntax error: ${e.message}`);
      if (!byLine.has(issue.line)) byLine.set(issue.line, issue);
    }
    throw new InvalidPatchError(file, [...byLine.values()]);
  }
  const aliases = unresolvedAliases(doc);
  if (aliases.length > 0) {
    throw new InvalidPatchError(
      file,
      aliases.map((a) => at(a.offset, `YAML alias \`*${a.name}\` has no anchor \`&${a.name}\` before it`)),
    );
  }
  const data = toData(doc, (offset, message) => {
    throw new InvalidPatchError(file, [at(offset, message)]);
  });
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new InvalidPatchError(file, [
      at(
        0,
        `expected a mapping with \`id\` and \`description\` at the top of the file, got ${describeValue(data ?? undefined)}`,
      ),
    ]);
  }
  const parsed = manifestSchema.safeParse(data, { reportInput: true });
  const problems = [
    ...(parsed.success ? [] : fromZodIssues(parsed.error.issues, data, manifestSchema)),
    ...crossChecks(data as Record<string, unknown>),
  ];
  if (problems.length > 0 || !parsed.success)
    throw new InvalidPatchError(file, located(problems, doc, lines, file));
  const m = parsed.data;
  return {
    id: m.id,
    description: m.description,
    requires: m.requires ?? [],
    delete: m.delete ?? [],
    steps: m.steps ?? [],
    verify: m.verify ?? [],
  };
}

function located(problems: PathIssue[], doc: Document, lines: LineCounter, file: string): PatchIssue[] {
  const seen = new Set<string>();
  const out: PatchIssue[] = [];
  for (const p of problems) {
    const { line, column } = locate(doc, lines, p.path, p.at);
    const issue = { file, line, column, path: formatPath(p.path), message: p.message };
    const key = `${line}:${column}:${issue.path}:${issue.message}`;
    if (!seen.has(key)) out.push(issue);
    seen.add(key);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function unresolvedAliases(doc: Document): { name: string; offset: number }[] {
  const out: { name: string; offset: number }[] = [];
  visit(doc, {
    Alias(_, node) {
      if (isAlias(node) && node.resolve(doc) === undefined)
        out.push({ name: node.source, offset: node.range?.[0] ?? 0 });
    },
  });
  return out;
}

/**
 * The document as plain data. An alias bomb (aliases of aliases, expanding exponentially) is
 * stopped after {@link MAX_ALIASES} expansions and reported at its first alias, as is a document
 * nested too deeply to convert — never a stack trace.
 */
function toData(doc: Document, fail: (offset: number, message: string) => never): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    let first: number | undefined;
    visit(doc, {
      Alias(_, node) {
        first ??= node.range?.[0];
        return visit.BREAK;
      },
    });
    if (err instanceof ReferenceError && first !== undefined)
      return fail(
        first,
        `YAML aliases expand too much (more than ${MAX_ALIASES} expansions, as an alias bomb does): patch.yaml needs no aliases; write the values out`,
      );
    return fail(first ?? 0, `patch.yaml cannot be read as data: ${(err as Error).message}`);
  }
}
