// @module bench/lib/crash-campaign/plan (types for the TypeScript test)
export function parseSeed(text: string | undefined): number;
export const recoverLabel: (r: "daemon" | string[]) => string;
