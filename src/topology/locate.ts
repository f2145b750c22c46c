/**
 * @module topology/locate
 * Source positions: from a key path (`["components", "engine", "stop", "grace"]`) to the line and
 * column of that key or value in the YAML document, and from a path to its display form
 * (`components.engine.stop.grace`, `routes[0].to`).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

/** A problem found before it has a position. */
export interface PathIssue {
  path: readonly PropertyKey[];
  message: string;
  /** Point at the key (an unknown key, a bad name) rather than at its value. @default "value" */
  at?: "key" | "value";
}

export interface Position {
  line: number;
  column: number;
}

/**
 * Display form of a key path.
 * @example formatPath(["routes", 0, "to"]) // "routes[0].to"
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function keyMatches(key: unknown, seg: PropertyKey): boolean {
  if (isScalar(key)) return String(key.value) === String(seg);
  return String(key) === String(seg);
}

/**
 * Where `path` is in `doc`. When the whole path exists: its key (`at: "key"`) or its value (or the key
 * when the value is empty). When it does not (a missing required key): the key of the deepest
 * ancestor that exists, so that the problem shows where the key should have been.
 */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly PropertyKey[],
  at: "key" | "value" = "value",
): Position {
  let node: unknown = doc.contents;
  let keyOffset: number | undefined;
  let valueOffset = offsetOf(node) ?? 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let found = false;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyMatches(p.key, seg));
      if (pair) {
        found = true;
        keyOffset = offsetOf(pair.key) ?? keyOffset;
        next = pair.value;
      }
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      found = true;
      next = node.items[seg];
      keyOffset = offsetOf(next) ?? keyOffset;
    }
    if (!found) return toPosition(lines, keyOffset ?? valueOffset);
    node = next;
    valueOffset = offsetOf(node) ?? keyOffset ?? valueOffset;
  }
  const empty = isScalar(node) && node.value === null && !node.source;
  if ((at === "key" || empty) && keyOffset !== undefined) return toPosition(lines, keyOffset);
  return toPosition(lines, offsetOf(node) ?? keyOffset ?? valueOffset);
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function toPosition(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}
