// daemon.log is rotated like replica logs: a real process appending to it (as the daemon does,
// through the O_APPEND descriptor `steward up` gives it) keeps writing to daemon.log after the
// rotation, what it wrote before is in daemon.log.1, and at most `keep` old files remain.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DAEMON_LOG_ROTATION, daemonLogFile, rotateDaemonLog } from "../../src/daemon/log.js";

const until = async (what: string, ok: () => boolean): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("daemon.log rotation", () => {
  it("defaults to the replica logs' 10 MiB and 5 files", () => {
    expect(DAEMON_LOG_ROTATION).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 5 });
  });

  it("rotates while a process keeps appending; nothing below the limit is touched", async () => {
    const home = mkdtempSync(join(tmpdir(), "stw-dlog-"));
    mkdirSync(join(home, "logs"));
    const file = daemonLogFile(home);
    const fd = openSync(file, "a");
    // Writes a numbered line every 5 ms on its stdout, like a daemon logging.
    const writer = spawn(
      process.execPath,
      ["-e", "let n = 0; setInterval(() => process.stdout.write(`line ${n++}\\n`), 5)"],
      { stdio: ["ignore", fd, "inherit"] },
    );
    closeSync(fd);
    try {
      const spec = { maxBytes: 2_000, keep: 2 };
      expect(await rotateDaemonLog(home, spec)).toBe(false);
      for (let round = 1; round <= 3; round++) {
        await until("daemon.log to pass the limit", () => statSync(file).size >= spec.maxBytes);
        expect(await rotateDaemonLog(home, spec)).toBe(true);
        expect(statSync(file).size).toBeLessThan(spec.maxBytes);
      }
      expect(readFileSync(`${file}.1`, "utf8")).toMatch(/^line \d+\n/);
      expect(existsSync(`${file}.2`)).toBe(true);
      expect(existsSync(`${file}.3`), "keep: 2").toBe(false);
      // The writer goes on into daemon.log, at its start (O_APPEND), numbering on from daemon.log.1.
      const lastRotated = Number(/line (\d+)\n$/.exec(readFileSync(`${file}.1`, "utf8"))![1]);
      await until("a new line in daemon.log", () => /line \d+\n/.test(readFileSync(file, "utf8")));
      const first = Number(/^line (\d+)/.exec(readFileSync(file, "utf8"))![1]);
      expect(first).toBeGreaterThan(lastRotated);
    } finally {
      writer.kill("SIGKILL");
    }
  });
});
