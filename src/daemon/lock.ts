/**
 * @module daemon/lock
 * One daemon per home: `<home>/daemon.pid` is created with O_EXCL. A file left by a daemon that
 * died is recognised (its pid is gone, or now belongs to another program) and replaced.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonRunningError } from "../errors.js";
import { isAlive } from "../process/index.js";

export interface DaemonLock {
  file: string;
  release(): void;
}

export function acquireLock(home: string): DaemonLock {
  const file = join(home, "daemon.pid");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return {
        file,
        release: () => {
          try {
            if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) && looksLikeSteward(pid)) {
        throw new DaemonRunningError(pid, home);
      }
      unlinkSync(file); // stale: its daemon is gone
    }
  }
  throw new Error(`could not create ${file}`);
}

function looksLikeSteward(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("steward");
  } catch {
    return false;
  }
}
