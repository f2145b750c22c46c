/**
 * @module topology/load
 * Reading a topology file: YAML with source positions → interpolation → strict validation and
 * cross-reference checks (every problem collected, each at file:line:column with its key path) →
 * compilation with every default → dependency cycle check.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isAbsolute, relative, resolve } from "node:path";
import { isAlias, LineCounter, parseDocument, visit, type Document } from "yaml";
import { DependencyCycleError, TopologyError, TopologyReadError, type TopologyIssue } from "../errors.js";
import { crossChecks } from "./checks.js";
import { compileTopology } from "./compile.js";
import { expandTopology } from "./expand.js";
import { DependencyGraph } from "./graph.js";
import { fromZodIssues } from "./issues.js";
import { formatPath, locate, type PathIssue } from "./locate.js";
import { topologySchema } from "./schema.js";
import type { CompiledTopology } from "./types.js";
import { describeValue } from "./values.js";

export interface LoadOptions {
  /** Environment for `${NAME}`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Value of `${node}`. @default os.hostname() */
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
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    const shown = displayPath(file);
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file" : (e.message ?? String(err));
    throw new TopologyReadError(shown, reason, err);
  }
  return parseTopology(source, file, opts);
}

/**
 * Validates and compiles topology text as if read from `file` (which locates messages and
 * relative paths; it is not read).
 * @throws TopologyError, DependencyCycleError as {@link loadTopology}.
 */
export function parseTopology(source: string, file: string, opts: LoadOptions = {}): CompiledTopology {
  const abs = resolve(file);
  const shown = displayPath(file);
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, merge: true });
  const at = (offset: number, message: string): TopologyIssue => {
    const { line, col } = lines.linePos(offset);
    return { file: shown, line, column: col, path: "", message };
  };

  if (doc.errors.length > 0) {
    // One problem per line: the parser's follow-up errors on the same line are noise.
    const issues = new Map<number, TopologyIssue>();
    for (const e of doc.errors) {
      const issue = at(e.pos[0], `YAML syntax error: ${e.message}`);
      if (!issues.has(issue.line)) issues.set(issue.line, issue);
    }
    throw new TopologyError([...issues.values()]);
  }
  const unresolved = unresolvedAliases(doc);
  if (unresolved.length > 0) {
    throw new TopologyError(
      unresolved.map((a) => at(a.offset, `YAML alias \`*${a.name}\` has no anchor \`&${a.name}\` before it`)),
    );
  }

  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TopologyError([
      at(
        0,
        `expected a mapping with \`components\` at the top of the file, got ${describeValue(data ?? undefined)}`,
      ),
    ]);
  }

  const expanded = expandTopology(data, {
    env: opts.env ?? process.env,
    node: opts.node ?? hostname(),
    dir: resolve(abs, ".."),
  });
  const parsed = topologySchema.safeParse(expanded.data, { reportInput: true });
  const problems: PathIssue[] = [
    ...expanded.issues,
    ...(parsed.success ? [] : fromZodIssues(parsed.error.issues, expanded.data, topologySchema)),
    ...crossChecks(expanded.data),
  ];
  if (problems.length > 0 || !parsed.success) {
    throw new TopologyError(located(problems, doc, lines, shown));
  }

  const raw = expanded.data as { patching?: Record<string, unknown>; cluster?: Record<string, unknown> };
  const topology = compileTopology(parsed.data, {
    file: abs,
    home: expanded.home,
    raw: {
      ...(raw.patching ? { patching: raw.patching } : {}),
      ...(raw.cluster ? { cluster: raw.cluster } : {}),
    },
  });
  const cycle = new DependencyGraph(topology.components, { file: shown }).findCycle();
  if (cycle) throw new DependencyCycleError(cycle, shown);
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
