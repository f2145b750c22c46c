// @module bench/lib/crash-campaign/scorecard (types for the TypeScript test)
import type { CampaignResult } from "./campaign.mjs";

export interface Score {
  kills: number;
  failed: number;
  midOperation: number;
  ackedWrites: number;
  lostWrites: number;
  lostAtEnd: number;
  duplicates: number;
  orphans: number;
  recoveryMs: { median: number | null; max: number | null; n: number };
  byKind: Record<
    string,
    {
      kills: number;
      midOperation: number;
      failed: number;
      recoveryMedianMs: number | null;
      recoveryMaxMs: number | null;
    }
  >;
  sessionsFailed: number;
}
export function score(result: CampaignResult): Score;
