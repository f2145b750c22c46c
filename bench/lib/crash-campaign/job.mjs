#!/usr/bin/env node
// @module bench/lib/crash-campaign/job
// The campaign's job: appends `start <run> <pid>` to $JOB_LOG, works $JOB_MS ms, appends `end <run>
// <pid>` and exits 0. A run that executes twice, or is killed, shows in the log.
import fs from "node:fs";

const file = process.env.JOB_LOG;
const run = process.env.STEWARD_RUN ?? "?";
const line = (event) => fs.appendFileSync(file, `${event} ${run} ${process.pid}\n`);
line("start");
process.on("SIGTERM", () => {
  line("term");
  process.exit(143);
});
setTimeout(
  () => {
    line("end");
    process.exit(0);
  },
  Number(process.env.JOB_MS ?? 2500),
);
