/**
 * @module api/jobs
 * The jobs part of the control API: list definitions with their schedules and recent runs, start a
 * run, and wait for a run to end (long poll).
 */
import type { Hono } from "hono";
import { BadRequestError, StewardError } from "../errors.js";
import type { JobRunner } from "../lifecycle/job-runner.js";
import type { JobRunRecord } from "../store/records.js";
import type { StateStore } from "../store/state-store.js";

/** One job as `GET /v1/jobs` and `steward jobs` show it. */
export interface JobStatus {
  name: string;
  schedule: string | null;
  concurrency: number;
  duringMaintenance: "wait" | "cancel";
  /** Paused by maintenance. */
  paused: boolean;
  /** Epoch ms of the next scheduled run; null without an active schedule. */
  nextRun: number | null;
  running: JobRunRecord[];
  /** The newest runs, newest first (at most 5). */
  recent: JobRunRecord[];
}

export interface JobsControl {
  jobs: JobRunner;
  store: Pick<StateStore, "listJobRuns">;
  admit(operation: "run"): void;
}

export function jobRoutes(app: Hono, daemon: JobsControl): void {
  app.get("/v1/jobs", async (c) => {
    const jobs: JobStatus[] = await Promise.all(
      daemon.jobs.jobs.map(async (j) => ({
        name: j.name,
        schedule: j.schedule ?? null,
        concurrency: j.concurrency,
        duringMaintenance: j.duringMaintenance,
        paused: daemon.jobs.paused(j.name),
        nextRun: daemon.jobs.nextRun(j.name),
        running: daemon.jobs.running(j.name),
        recent: await daemon.store.listJobRuns(j.name, 5),
      })),
    );
    return c.json({ jobs });
  });

  app.post("/v1/jobs/:name/run", async (c) => {
    daemon.admit("run");
    const { record } = await daemon.jobs.start(c.req.param("name"), "manual");
    return c.json({ run: record }, 201);
  });

  app.get("/v1/jobs/runs/:id", async (c) => {
    const id = c.req.param("id");
    const wait = c.req.query("wait");
    if (wait !== undefined && wait !== "1") throw new BadRequestError("`wait` must be 1 when given");
    const live = daemon.jobs.running().find((r) => r.id === id);
    if (live && wait === "1") return c.json({ run: await daemon.jobs.whenDone(id) });
    if (live) return c.json({ run: live });
    const job = /^run-(.+)-[0-9a-z]+-\d+$/.exec(id)?.[1];
    const found = job ? (await daemon.store.listJobRuns(job, 100)).find((r) => r.id === id) : undefined;
    if (!found)
      throw new StewardError("STW-1404", `no job run \`${id}\``, { httpStatus: 404, details: { id } });
    return c.json({ run: found });
  });
}
