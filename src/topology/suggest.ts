/**
 * @module topology/suggest
 * "Did you mean …?": the nearest valid word by edit distance, offered only when it is close.
 */

/** Case, `-` and `_` do not count as differences: `Depends-On` is an exact match for `depends_on`. */
function normalize(word: string): string {
  return word.toLowerCase().replaceAll("-", "_");
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and transpositions of two
 * adjacent characters each cost 1.
 * @example editDistance("depnds_on", "depends_on") // 1
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The candidate nearest to `word`, when it is close enough to be a likely typo: at most 1 edit for
 * words of up to 4 characters, 2 up to 8, 3 beyond. Ties go to the earlier candidate.
 * @example didYouMean("depnds_on", ["depends_on", "drain"]) // "depends_on"
 * @example didYouMean("xyz", ["depends_on"]) // undefined
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = normalize(word);
  const limit = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(w, normalize(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean \`x\`?` or the empty string. */
export function didYouMeanSuffix(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : `; did you mean \`${s}\`?`;
}

/** Alias of {@link didYouMean}, the name the CLI and lifecycle use. */
export const nearest = didYouMean;
