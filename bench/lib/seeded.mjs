// @module bench/lib/seeded
// Seeded randomness shared by the crash campaign (bench/crash-campaign.mjs) and the randomized crash
// tests: a seed from text, and named streams — each label draws its own sequence from the seed, so
// one kill or one test iteration replays alone.

/** mulberry32: small, fast, good enough to pick delays. */
function mulberry32(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a text. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded stream: `next()` in [0, 1), `between(lo, hi)` (whole numbers), `pick(list)`. */
export function stream(seed, label) {
  const next = mulberry32(fnv1a(`${seed}/${label}`));
  return {
    next,
    between: (lo, hi) => Math.round(lo + next() * (hi - lo)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

/**
 * Bin `i` (1-based) of `bins` equal parts of [lo, hi]: `[lo', hi']` to draw from, so that `bins`
 * iterations together reach every part of the range in every run, not only across runs.
 */
export function stratum(lo, hi, i, bins) {
  const width = (hi - lo) / bins;
  return [Math.round(lo + (i - 1) * width), Math.round(lo + i * width)];
}

/** A seed from text (`--seed`, an environment variable named `name`), or a random one when empty. */
export function parseSeed(text, name = "the seed") {
  if (text === undefined || String(text).trim() === "") return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new Error(`${name} must be an integer in 0..2^32-1, got \`${text}\``);
  return seed;
}
