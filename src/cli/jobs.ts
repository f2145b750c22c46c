/**
 * @module cli/jobs
 * `steward run <job>`: starts a run, prints its output as it runs (read from its log file) and exits
 * with 0 when it succeeded, 1 otherwise; `--detach` returns once it started. `steward jobs`: each
 * job's schedule, next run, runs in progress and recent runs.
 */
import type { JobStatus } from "../api/jobs.js";
import { formatMs } from "../process/duration.js";
import { follow } from "../process/logfile.js";
import type { JobRunRecord } from "../store/records.js";
import { call } from "./client.js";
import { whileRecovering } from "./recovery.js";

export async function runJob(
  socket: string,
  job: string,
  opts: { detach: boolean },
  out: (line: string) => void,
  write: (text: string) => void,
): Promise<boolean> {
  const { run } = await whileRecovering(
    () => call<{ run: JobRunRecord }>(socket, "POST", `/v1/jobs/${encodeURIComponent(job)}/run`),
    out,
  );
  if (run.state !== "running") {
    out(`job ${job}: run ${run.id} ${run.state}: ${run.reason ?? ""}`);
    return false;
  }
  out(`job ${job}: run ${run.id} started (pid ${run.pid}); log: ${run.logFile}`);
  if (opts.detach) return true;
  const stop = follow(run.logFile, 0, write, { pollMs: 50 });
  let ended: { run: JobRunRecord };
  try {
    ended = await call<{ run: JobRunRecord }>(socket, "GET", `/v1/jobs/runs/${run.id}?wait=1`);
    await new Promise((r) => setTimeout(r, 60)); // let the follower print the last lines
  } finally {
    stop(); // also when the daemon died meanwhile: the follower's timer would keep the CLI alive
  }
  const r = ended.run;
  const took = r.finishedAt === null ? "" : ` in ${formatMs(r.finishedAt - r.startedAt)}`;
  out(`job ${job}: run ${r.id} ${r.state}${took}${r.state === "succeeded" ? "" : ` (${r.reason})`}`);
  return r.state === "succeeded";
}

function when(at: number | null, now: number): string {
  if (at === null) return "-";
  const delta = at - now;
  return delta >= 0 ? `in ${formatMs(delta)}` : `${formatMs(-delta)} ago`;
}

export function renderJobs(jobs: JobStatus[], now = Date.now()): string {
  if (jobs.length === 0) return "the topology declares no jobs";
  const rows = [["JOB", "SCHEDULE", "NEXT RUN", "RUNNING", "LAST RUN"]];
  for (const j of jobs) {
    const last = j.recent.find((r) => r.state !== "running");
    rows.push([
      j.name,
      j.schedule ?? "-",
      j.paused ? "paused (maintenance)" : when(j.nextRun, now),
      j.running.length === 0 ? "-" : j.running.map((r) => `pid ${r.pid}`).join(", "),
      last
        ? `${last.state} ${when(last.finishedAt ?? last.startedAt, now)}${last.reason && last.state !== "succeeded" ? `: ${last.reason}` : ""}`
        : "-",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
