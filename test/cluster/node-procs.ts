/**
 * A node's processes, found by the marker every replica carries (`STEWARD_HOME=<home>` in its
 * environment, test/integration/helpers `homeOf`): to kill or pause a whole "machine", and to
 * count what really runs.
 */
import fs from "node:fs";
import { homeOf } from "../integration/helpers.js";
import { daemonPid } from "./nodes.js";

/** Pids whose environment has `STEWARD_HOME=<home of dir>` (and `STEWARD_COMPONENT=component` when given). */
export function markedPids(dir: string, component?: string): number[] {
  const home = `STEWARD_HOME=${homeOf(dir)}`;
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let env: string[];
    try {
      env = fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!env.includes(home)) continue;
    if (component !== undefined && !env.includes(`STEWARD_COMPONENT=${component}`)) continue;
    if (isZombie(Number(entry))) continue;
    out.push(Number(entry));
  }
  return out;
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Sends `signal` to the node's daemon and every process carrying its marker (a lost or paused machine). */
export function signalNode(
  dir: string,
  signal: NodeJS.Signals,
  what: "all" | "daemon" | "replicas" = "all",
): void {
  const pids = [
    ...(what !== "replicas" ? [daemonPid(dir)].filter((p): p is number => p !== undefined) : []),
    ...(what !== "daemon" ? markedPids(dir) : []),
  ];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
