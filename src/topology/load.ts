/**
 * @module topology/load
 * Reading a topology file: YAML with source positions → interpolation → strict validation and
 * cross-reference checks (every problem collected, each at file:line:column with its key path) →
 * compilation with every default → dependency cycle check.
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { isAlias, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import { DependencyCycleError, TopologyError, TopologyReadError, type TopologyIssue } from "../errors.js";
import { crossChecks } from "./checks.js";
import { compileTopology } from "./compile.js";
import { expandTopology } from "./expand.js";
import { DependencyGraph } from "./graph.js";
import { fromZodIssues } from "./issues.js";
import { formatPath, locate, type PathIssue } from "./locate.js";
import { placementWarnings } from "./placement-checks.js";
import { topologySchema } from "./schema.js";
import type { CompiledTopology } from "./types.js";
import { describeValue } from "./values.js";
import { nodeChecks, resolveNodeName } from "./node-name.js";
import { clusterDigest } from "./cluster.js";
import {
  decodeUtf8,
  MAX_ALIAS_COUNT,
  MAX_REPORTED_ISSUES,
  MAX_TOPOLOGY_BYTES,
  nulIssues,
} from "./source-guards.js";

export interface LoadOptions {
  /** Environment for `${NAME}`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Value of `${node}`. @default `STEWARD_NODE`, else `cluster.node`, else os.hostname() */
  node?: string;
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const abs = resolve(file);
  const rel = relative(process.cwd(), abs);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

/**
 * Loads, validates and compiles a topology file.
 * @throws TopologyError listing every problem (unreadable file, YAML syntax, unknown keys, wrong
 *   types, bad durations, unset variables, unknown dependencies or route targets…).
 * @throws DependencyCycleError when `depends_on` has a cycle (`a → b → a`).
 * @example const topology = loadTopology("steward.yaml");
 */
export function loadTopology(file: string, opts: LoadOptions = {}): CompiledTopology {
  let bytes: Buffer;
  try {
    // Refused by its size before it is read: a 10 MB file took 23 s and 960 MB to validate.
    const size = statSync(file).size;
    if (size > MAX_TOPOLOGY_BYTES) throw tooLarge(displayPath(file), size);
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof TopologyError) throw err;
    const shown = displayPath(file);
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file" : (e.message ?? String(err));
    throw new TopologyReadError(shown, reason, err);
  }
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) {
    const { line, column, byte } = decoded.at;
    throw new TopologyError([
      {
        file: displayPath(file),
        line,
        column,
        path: "",
        message: `byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} is not UTF-8; save the file as UTF-8`,
      },
    ]);
  }
  return parseTopology(decoded.text, file, opts);
}

function tooLarge(shown: string, size: number): TopologyError {
  return new TopologyError([
    {
      file: shown,
      line: 1,
      column: 1,
      path: "",
      message: `the file is ${size} bytes, over the limit of ${MAX_TOPOLOGY_BYTES} bytes (1 MiB) for a topology`,
    },
  ]);
}

/**
 * Validates and compiles topology text as if read from `file` (which locates messages and
 * relative paths; it is not read).
 * @throws TopologyError, DependencyCycleError as {@link loadTopology}.
 */
export function parseTopology(source: string, file: string, opts: LoadOptions = {}): CompiledTopology {
  const abs = resolve(file);
  const shown = displayPath(file);
  const size = Buffer.byteLength(source);
  if (size > MAX_TOPOLOGY_BYTES) throw tooLarge(shown, size);
  const lines = new LineCounter();
  // Unique keys are checked below in one pass: the parser's own check is quadratic in a mapping's
  // size (a 1 MB file of 22,000 components: 23 s instead of 4 s under load).
  const doc = parseDocument(source, {
    lineCounter: lines,
    prettyErrors: false,
    merge: true,
    uniqueKeys: false,
  });
  const at = (offset: number, message: string): TopologyIssue => {
    const { line, col } = lines.linePos(offset);
    return { file: shown, line, column: col, path: "", message };
  };

  const syntax = [
    ...doc.errors.map((e) => ({ offset: e.pos[0], message: e.message })),
    ...duplicateKeys(doc).map((offset) => ({ offset, message: "Map keys must be unique" })),
  ].sort((a, b) => a.offset - b.offset);
  if (syntax.length > 0) {
    // One problem per line: the parser's follow-up errors on the same line are noise.
    const issues = new Map<number, TopologyIssue>();
    for (const e of syntax) {
      const issue = at(e.offset, `YAML syntax error: ${e.message}`);
      if (!issues.has(issue.line)) issues.set(issue.line, issue);
    }
    const all = [...issues.values()];
    throw new TopologyError(all.slice(0, MAX_REPORTED_ISSUES), Math.max(0, all.length - MAX_REPORTED_ISSUES));
  }
  const unresolved = unresolvedAliases(doc);
  if (unresolved.length > 0) {
    throw new TopologyError(
      unresolved.map((a) => at(a.offset, `YAML alias \`*${a.name}\` has no anchor \`&${a.name}\` before it`)),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The parser refuses a document whose aliases expand beyond the count (an alias bomb).
    if (!(err instanceof ReferenceError)) throw err;
    const first = firstAlias(doc);
    throw new TopologyError([
      at(
        first?.offset ?? 0,
        `YAML aliases expand too much (over ${MAX_ALIAS_COUNT} alias uses${first ? `, from \`*${first.name}\`` : ""}): write the values out, or use fewer aliases`,
      ),
    ]);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TopologyError([
      at(
        0,
        `expected a mapping with \`components\` at the top of the file, got ${describeValue(data ?? undefined)}`,
      ),
    ]);
  }

  const node = opts.node ?? resolveNodeName(opts.env ?? process.env, data);
  const expanded = expandTopology(data, {
    env: opts.env ?? process.env,
    node,
    dir: resolve(abs, ".."),
  });
  const parsed = topologySchema.safeParse(expanded.data, { reportInput: true });
  const problems: PathIssue[] = [
    ...expanded.issues,
    ...(parsed.success ? [] : fromZodIssues(parsed.error.issues, expanded.data, topologySchema)),
    ...crossChecks(expanded.data),
    ...nodeChecks(data, node, opts.env ?? process.env),
    ...nulIssues(expanded.data),
  ];
  if (problems.length > 0 || !parsed.success) {
    // Locating a problem walks the document: only the first ones are located, the rest counted.
    const shownProblems = problems.slice(0, MAX_REPORTED_ISSUES);
    throw new TopologyError(
      located(shownProblems, doc, lines, shown),
      problems.length - shownProblems.length,
    );
  }

  const raw = expanded.data as { patching?: Record<string, unknown>; cluster?: Record<string, unknown> };
  const topology = compileTopology(parsed.data, {
    file: abs,
    home: expanded.home,
    node,
    ...((data as { cluster?: unknown }).cluster !== undefined ? { clusterDigest: clusterDigest(data) } : {}),
    raw: {
      ...(raw.patching ? { patching: raw.patching } : {}),
      ...(raw.cluster ? { cluster: raw.cluster } : {}),
    },
  });
  const cycle = new DependencyGraph(topology.components, { file: shown }).findCycle();
  if (cycle) throw new DependencyCycleError(cycle, shown);
  const warnings = placementWarnings(expanded.data as Record<string, unknown>);
  if (warnings.length > 0) topology.warnings = located(warnings, doc, lines, shown);
  return topology;
}

/** Problems with positions, in file order, without duplicates. */
function located(problems: PathIssue[], doc: Document, lines: LineCounter, file: string): TopologyIssue[] {
  const seen = new Set<string>();
  const out: TopologyIssue[] = [];
  for (const p of problems) {
    const { line, column } = locate(doc, lines, p.path, p.at);
    const issue = { file, line, column, path: formatPath(p.path), message: p.message };
    const key = `${line}:${column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Offsets of keys that repeat a scalar key earlier in the same mapping (merge keys `<<` aside). */
function duplicateKeys(doc: Document): number[] {
  const out: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.value === "<<") continue;
        const key = String(pair.key.value);
        if (seen.has(key)) out.push(pair.key.range?.[0] ?? 0);
        seen.add(key);
      }
    },
  });
  return out;
}

function firstAlias(doc: Document): { name: string; offset: number } | undefined {
  let found: { name: string; offset: number } | undefined;
  visit(doc, {
    Alias(_, node) {
      found = { name: node.source, offset: node.range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  return found;
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
