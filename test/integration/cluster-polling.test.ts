/**
 * Cluster operations are found by polling as well as by `NOTIFY` (cluster/operation-engine): a
 * request and a released step written straight into the journal, with no notification at all, are
 * each taken within one poll interval (the heartbeat) of being written.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster, TIMING } from "../cluster/nodes.js";
import { pgAdmin } from "../store/fixtures/postgres.js";
import { waitFor } from "./helpers.js";

let c: TestCluster;
afterEach(async () => {
  await c?.close();
});

/** Slack for a pass's own round trips on a loaded machine, on top of the poll interval. */
const SLACK_MS = 800;

describe("cluster operations without NOTIFY", () => {
  it("a request inserted directly is taken by the primary, and a released step by its node, each within a poll interval", async () => {
    c = await TestCluster.create("polling", 2);
    const ups = await Promise.all(c.nodes.map((n) => c.up(n.name)));
    for (const u of ups) expect(u.code, u.stdout + u.stderr).toBe(0);
    const primary = await waitFor("a primary", async () => {
      const l = await c.lease();
      return l.live && l.holder !== null && l;
    });
    const other = c.nodes.find((n) => n.name !== primary.holder)!.name;
    await waitFor("web ready on both nodes", async () => {
      const states = await Promise.all(
        c.nodes.map(async (n) => (await c.status(n.name)).components[0]!.replicas.map((r) => r.state)),
      );
      return states.flat().every((s) => s === "ready") && states.flat().length === 4;
    });

    // 1. A request, as `ASK` writes it (operations-sql), with no NOTIFY: the primary takes it.
    await pgAdmin(
      `INSERT INTO steward_cluster.operations (id, kind, components, asked_by, state, asked_at)
       VALUES ('polled-request', 'start', '["web"]'::jsonb, 'test', 'requested', clock_timestamp())`,
      [],
      c.db,
    );
    const taken = await waitFor(
      "the request taken",
      async () => {
        const [r] = await pgAdmin<{ state: string; driver: string | null; ms: number }>(
          `SELECT state, driver, (extract(epoch FROM started_at - asked_at) * 1000)::int AS ms
           FROM steward_cluster.operations WHERE id = 'polled-request'`,
          [],
          c.db,
        );
        return r!.state !== "requested" && r!;
      },
      10_000,
      20,
    );
    expect(taken.driver).toBe(primary.holder);
    // By the database's clock, from the insert to the primary's CREATE.
    expect(taken.ms).toBeLessThanOrEqual(TIMING.heartbeatMs + SLACK_MS);
    await waitFor(
      "the request done",
      async () =>
        (
          await pgAdmin<{ state: string }>(
            `SELECT state FROM steward_cluster.operations WHERE id = 'polled-request'`,
            [],
            c.db,
          )
        )[0]!.state === "done",
    );

    // 2. A running operation with a released step for the other node (as CREATE then RELEASE
    // leave it), written in one transaction with no NOTIFY: that node claims and runs it (a stop).
    await pgAdmin(
      `WITH op AS (
         INSERT INTO steward_cluster.operations (id, kind, components, asked_by, state, epoch, driver,
           max_unavailable, asked_at, started_at)
         VALUES ('polled-step', 'stop', '["web"]'::jsonb, 'test', 'running', $1, $2, 1, clock_timestamp(), clock_timestamp())
         RETURNING id)
       INSERT INTO steward_cluster.operation_steps (operation_id, node, seq, state)
       SELECT id, $3, 1, 'released' FROM op`,
      [primary.epoch, primary.holder, other],
      c.db,
    );
    const claimed = await waitFor(
      `${other} claims its step`,
      async () => {
        const [r] = await pgAdmin<{ state: string; runs: number; ms: number | null }>(
          `SELECT s.state, s.runs, (extract(epoch FROM s.started_at - o.started_at) * 1000)::int AS ms
           FROM steward_cluster.operation_steps s JOIN steward_cluster.operations o ON o.id = s.operation_id
           WHERE s.operation_id = 'polled-step'`,
          [],
          c.db,
        );
        return r!.state !== "released" && r!;
      },
      10_000,
      20,
    );
    expect(claimed.ms).not.toBeNull();
    expect(claimed.ms!).toBeLessThanOrEqual(TIMING.heartbeatMs + SLACK_MS);
    console.log(
      `polling (heartbeat ${TIMING.heartbeatMs} ms, no NOTIFY): request taken after ${taken.ms} ms, released step claimed after ${claimed.ms} ms`,
    );
    const ended = await waitFor("the step done, the operation finished by the primary", async () => {
      const [r] = await pgAdmin<{ step: string; op: string; outcome: string }>(
        `SELECT s.state AS step, o.state AS op, s.outcome FROM steward_cluster.operation_steps s
         JOIN steward_cluster.operations o ON o.id = s.operation_id WHERE s.operation_id = 'polled-step'`,
        [],
        c.db,
      );
      return r!.op === "done" && r!;
    });
    expect(ended).toMatchObject({ step: "done", outcome: "1 component stopped" });
    const states = (await c.status(other)).components[0]!.replicas.map((r) => r.state);
    expect(states).toEqual(["stopped", "stopped"]);
  });
});
