/**
 * @module cluster/fence-keeper
 * A tiny process beside the daemon that ends this node's singleton replicas when the daemon cannot:
 * stopped (SIGSTOP, a machine-wide freeze of the daemon alone) or dead while the singleton lives
 * on. The daemon writes `<ms> <pgid> <pgid>…` lines on its stdin after each placement read: "if you
 * hear nothing newer within `ms`, SIGKILL these groups" — `ms` runs to the time the daemon's own
 * self-fence would have ended their stop budget (docs/cluster.md, the singleton). A group is
 * signalled only while its leader still carries this home's marker (a reused pid is left alone).
 *
 * Run as `node fence-keeper.js <home>`; exits once its stdin is closed and nothing is left to
 * guard (at once after an orderly shutdown, which sends an empty list first).
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const home = process.argv[2] ?? "";
let deadline = Number.POSITIVE_INFINITY;
let groups: number[] = [];
let closed = false;
let timer: NodeJS.Timeout | undefined;

function marked(pgid: number): boolean {
  try {
    return readFileSync(`/proc/${pgid}/environ`, "latin1").split("\0").includes(`STEWARD_HOME=${home}`);
  } catch {
    return false;
  }
}

function check(): void {
  if (groups.length > 0 && performance.now() >= deadline) {
    for (const pgid of groups) {
      if (!marked(pgid)) continue;
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    groups = [];
  }
  if (closed && groups.length === 0) process.exit(0);
}

function arm(): void {
  clearTimeout(timer);
  if (groups.length === 0) return check();
  // Polled as well as timed: a timer can come late after this process itself was stopped.
  timer = setTimeout(arm, Math.max(0, Math.min(50, deadline - performance.now())));
  check();
}

let buffer = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffer += chunk;
  let nl: number;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const [ms, ...pgids] = buffer.slice(0, nl).trim().split(/\s+/);
    buffer = buffer.slice(nl + 1);
    deadline = performance.now() + Math.max(0, Number(ms) || 0);
    groups = pgids.map(Number).filter((p) => Number.isInteger(p) && p > 1);
  }
  arm();
});
process.stdin.on("end", () => {
  closed = true;
  arm();
});
process.on("SIGTERM", () => undefined); // only its stdin ends it: a group signal to the daemon's group must not
