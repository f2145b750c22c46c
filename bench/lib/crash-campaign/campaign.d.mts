// @module bench/lib/crash-campaign/campaign (types for the TypeScript test that runs it)

/** One kill's record: problems empty = passed. */
export interface KillRecord {
  index: number;
  kind: string;
  variant: "shop" | "patching";
  delay: number;
  recover: string;
  seed: number;
  victim?: string;
  landed?: string;
  step?: string;
  session?: string;
  boot?: string;
  recoveryMs?: number;
  acked?: number;
  lost?: number;
  orphans?: number;
  duplicates?: number;
  problems: string[];
  daemonLog?: string;
}

export interface SessionSummary {
  variant: "shop" | "patching";
  dir: string;
  acked?: number;
  lostAtEnd?: number;
  lost?: string[];
  error?: string;
}

export interface CampaignResult {
  seed: number;
  kills: KillRecord[];
  sessions: SessionSummary[];
  replayBase?: string;
}

export function runCampaign(options: {
  seed: number;
  kills: number;
  kinds?: string[];
  replay?: number;
  keep?: boolean;
  cli: string;
  log?: (line: string) => void;
  perSession?: number;
}): Promise<CampaignResult>;
