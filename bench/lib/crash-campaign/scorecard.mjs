// @module bench/lib/crash-campaign/scorecard
// The campaign's scorecard: kills per operation kind, lost writes, duplicate slots, orphans,
// recovery time median/max, and every failure with its seed and the command that replays it.

const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};

/** The figures of a campaign result (what the JSON holds besides the raw records). */
export function score(result) {
  const byKind = {};
  for (const k of result.kills) {
    const row = (byKind[k.kind] ??= { kills: 0, midOperation: 0, failed: 0, recoveryMs: [] });
    row.kills += 1;
    if (k.landed?.startsWith("mid")) row.midOperation += 1;
    if (k.problems.length > 0) row.failed += 1;
    if (k.recoveryMs !== undefined) row.recoveryMs.push(k.recoveryMs);
  }
  const recovery = result.kills.map((k) => k.recoveryMs).filter((x) => x !== undefined);
  const sum = (f) => result.kills.reduce((n, k) => n + (f(k) ?? 0), 0);
  const lostAtEnd = result.sessions.reduce((n, s) => n + Math.max(0, s.lostAtEnd ?? 0), 0);
  return {
    kills: result.kills.length,
    failed: result.kills.filter((k) => k.problems.length > 0).length,
    midOperation: result.kills.filter((k) => k.landed?.startsWith("mid")).length,
    ackedWrites: result.sessions.reduce((n, s) => n + (s.acked ?? 0), 0),
    lostWrites: sum((k) => k.lost) + lostAtEnd,
    lostAtEnd,
    duplicates: sum((k) => k.duplicates),
    orphans: sum((k) => k.orphans),
    recoveryMs: {
      median: median(recovery),
      max: recovery.length ? Math.max(...recovery) : null,
      n: recovery.length,
    },
    byKind: Object.fromEntries(
      Object.entries(byKind).map(([kind, r]) => [
        kind,
        {
          kills: r.kills,
          midOperation: r.midOperation,
          failed: r.failed,
          recoveryMedianMs: median(r.recoveryMs),
          recoveryMaxMs: r.recoveryMs.length ? Math.max(...r.recoveryMs) : null,
        },
      ]),
    ),
    sessionsFailed: result.sessions.filter((s) => (s.lostAtEnd ?? 0) !== 0).length,
  };
}

/** The Markdown scorecard. */
export function scorecardMarkdown(result, s, { date, command, seconds }) {
  const kinds = Object.entries(s.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([kind, r]) =>
        `| ${kind} | ${r.kills} | ${r.midOperation} | ${r.failed} | ${r.recoveryMedianMs ?? "—"} | ${r.recoveryMaxMs ?? "—"} |`,
    )
    .join("\n");
  const failures = result.kills
    .filter((k) => k.problems.length > 0)
    .map(
      (k) =>
        `- #${k.index} ${k.kind} (seed ${k.seed}; replay: \`${result.replayBase} --replay ${k.index}\`): ${k.problems.join("; ")}`,
    )
    .join("\n");
  return `# Crash campaign — ${date}

\`${command}\` — seed **${result.seed}**, ${s.kills} daemon SIGKILLs in ${Math.round(seconds)} s, on copies of
examples/shop (engine restarted rolling in place) and examples/shop-patching (behind the edge:
surge restarts, cutovers), an independent writer acknowledging writes through the shop's API all along
(write-back \`PUT /kv/<key>\` → 202 and durable \`PUT /kv/<key>?sync\` → 200). After every kill and
recovery: the interrupted operation reached its end state in the journal, the application its end
state (and \`steward verify\` agrees), the instance count and boot kind follow the record the daemon
died with, no orphan and no replica slot twice in /proc (STEWARD_* markers), every acknowledged write
is in the store; at the end of each shop, in its data file after \`steward down\`.

| figure | value |
|---|---|
| kills | ${s.kills} (${s.midOperation} landed mid-operation) |
| failed kills | ${s.failed} |
| acknowledged writes | ${s.ackedWrites} |
| lost writes | ${s.lostWrites} (missing from store.log at the end: ${s.lostAtEnd}) |
| duplicate replica slots | ${s.duplicates} |
| orphans | ${s.orphans} |
| recovery time median / max | ${s.recoveryMs.median ?? "—"} ms / ${s.recoveryMs.max ?? "—"} ms (n = ${s.recoveryMs.n}; spawn of the next daemon → status \`active\`) |

| operation kind | kills | mid-operation | failed | recovery median (ms) | recovery max (ms) |
|---|---|---|---|---|---|
${kinds}

${failures ? `## Failures\n\n${failures}\n` : "No failure.\n"}`;
}
