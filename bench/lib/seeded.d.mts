// @module bench/lib/seeded (types for the TypeScript tests)
export interface Stream {
  next(): number;
  between(lo: number, hi: number): number;
  pick<T>(list: readonly T[]): T;
}
export function stream(seed: number, label: string): Stream;
export function stratum(lo: number, hi: number, i: number, bins: number): [number, number];
export function parseSeed(text: string | undefined, name?: string): number;
