// @module bench/lib/crash-campaign/plan
// The seeded plan: which kind each kill interrupts, its delay, how it is recovered, and which shop
// (session) it runs in. Every kill draws from its own stream (seed/index), so one replays alone.
import { KINDS, KIND_NAMES } from "./kinds.mjs";

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

/** A seeded stream: `next()` in [0, 1), `between(lo, hi)`, `pick(list)`. */
export function stream(seed, label) {
  const next = mulberry32(fnv1a(`${seed}/${label}`));
  return {
    next,
    between: (lo, hi) => Math.round(lo + next() * (hi - lo)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

/** A seed from text (`--seed`, STEWARD_CRASH_SEED), or a random one. */
export function parseSeed(text) {
  if (text === undefined || String(text).trim() === "") return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new Error(`the seed must be an integer in 0..2^32-1, got \`${text}\``);
  return seed;
}

/**
 * `kills` kills over `kinds` (every kind once per round, in a seeded order), each with its delay,
 * recovery and shop variant; grouped into sessions of at most `perSession` kills on one shop.
 */
export function makePlan({ seed, kills, kinds = KIND_NAMES, perSession = 12 }) {
  for (const k of kinds)
    if (!KINDS[k]) throw new Error(`unknown kind \`${k}\` (one of ${KIND_NAMES.join(", ")})`);
  const order = [];
  const shuffle = stream(seed, "order");
  while (order.length < kills) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle.next() * (i + 1));
      [round[i], round[j]] = [round[j], round[i]];
    }
    order.push(...round);
  }
  const list = order.slice(0, kills).map((kind, i) => {
    const index = i + 1;
    const rng = stream(seed, `kill/${index}`);
    const spec = KINDS[kind];
    const variant = spec.variant === "either" ? rng.pick(["shop", "patching"]) : spec.variant;
    const delay = rng.between(spec.delay[0], spec.delay[1]);
    const recover = rng.pick(spec.recover);
    return { index, kind, variant, delay, recover, rng };
  });
  const sessions = [];
  for (const variant of ["shop", "patching"]) {
    const mine = list.filter((k) => k.variant === variant);
    for (let i = 0; i < mine.length; i += perSession)
      sessions.push({ variant, kills: mine.slice(i, i + perSession) });
  }
  return { seed, kills: list, sessions };
}

/** How a kill is recovered, for people: `daemon alone` or `steward up`. */
export const recoverLabel = (r) => (r === "daemon" ? "daemon alone" : `steward ${r.join(" ")}`);
