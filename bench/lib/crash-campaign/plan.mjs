// @module bench/lib/crash-campaign/plan
// The seeded plan: which kind each kill interrupts, its delay, how it is recovered, and which shop
// (session) it runs in. Every kill draws from its own stream (seed/index), so one replays alone.
import { stream } from "../seeded.mjs";
import { KINDS, KIND_NAMES } from "./kinds.mjs";

export { parseSeed } from "../seeded.mjs";

/**
 * The CI subset of `kinds`: part `seed % parts` of a round-robin split, so each run interrupts a
 * few kinds and consecutive seeds reach every kind (`parts` runs in a row cover them all).
 */
export function rotation(kinds, seed, parts) {
  const part = seed % parts;
  return kinds.filter((_, i) => i % parts === part);
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
