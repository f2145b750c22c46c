// @module bench/lib/crash-campaign/plan (types for the TypeScript test)
export function parseSeed(text: string | undefined, name?: string): number;
export function rotation<T>(kinds: readonly T[], seed: number, parts: number): T[];
export const recoverLabel: (r: "daemon" | string[]) => string;
