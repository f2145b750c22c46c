/**
 * @module cluster/reseed-view
 * `steward status`'s line per component with a reseed record on this node (cluster/reseed).
 */
import { formatMs } from "../process/duration.js";
import type { ReseedStatus } from "./reseed.js";

/**
 * One line per component, e.g. `reseed store: done from n1 (127.0.0.1:4100) in 1.2s, exit 0, at
 * 2026-12-05T22:31:05.120Z · node away 5.1s`.
 */
export function renderReseeds(list: readonly ReseedStatus[]): string[] {
  return list.map(({ component, owed, now, last }) => {
    const parts: string[] = [];
    if (last !== undefined && last.state !== "owed") {
      const from = `from ${last.peerNode ?? "?"} (${last.peer ?? "?"}:${last.peerPort ?? "?"})`;
      const at = `at ${new Date(last.at).toISOString()}`;
      if (last.state === "done")
        parts.push(`done ${from} in ${formatMs(last.durationMs ?? 0)}, exit ${last.exitCode ?? "-"}, ${at}`);
      else if (last.state === "failed")
        parts.push(`failed ${from}: ${last.reason ?? `exit ${last.exitCode ?? "-"}`}, ${at}`);
      else parts.push(`running ${from}`);
    }
    if (owed && now === undefined) parts.push("owed: the next start copies from a peer first");
    if (now !== undefined) parts.push(now);
    if (last?.awayMs != null) parts.push(`node away ${formatMs(last.awayMs)}`);
    return `reseed ${component}: ${parts.join(" · ")}`;
  });
}
