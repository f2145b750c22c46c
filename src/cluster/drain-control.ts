/**
 * @module cluster/drain-control
 * The asking side of `steward cluster drain|undrain NODE` (any node may ask): checks the request
 * (a node the cluster has, up, and — for a drain — that the others keep every `min_available` and
 * have room for its `nodes: any` replicas: cluster/drain-check), writes it (cluster/drain-sql),
 * then follows the drained node's progress for the CLI until it is done.
 */
import type pg from "pg";
import { drainRefusal, type DrainedComponent } from "./drain-check.js";
import { ASK_DRAIN, ASK_UNDRAIN, SELECT_DRAIN, type DrainState } from "./drain-sql.js";
import { DrainRefusedError, UnknownNodeError } from "./errors.js";
import type { Membership } from "./membership.js";
import { readReadyCounts } from "./ready-counts.js";

export type DrainKind = "drain" | "undrain";

/** One line of `POST /v1/cluster/drain|undrain`'s NDJSON answer. */
export type DrainLine =
  | { type: "drain-progress"; node: string; state: DrainState | null; progress: string | null }
  | { type: "drain-result"; node: string; ok: boolean; state: DrainState | null; progress: string | null }
  | { type: "warning"; message: string }
  | { type: "error"; error: { code: string; message: string } };

interface Row {
  state: DrainState;
  progress: string | null;
}

export class DrainControl {
  readonly #pool: pg.Pool;
  readonly #m: Membership;
  readonly #components: readonly DrainedComponent[];

  constructor(pool: pg.Pool, membership: Membership, components: readonly DrainedComponent[]) {
    this.#pool = pool;
    this.#m = membership;
    this.#components = components;
  }

  /** Checks and writes the request; throws (nothing written) when it cannot be done as asked. */
  async ask(kind: DrainKind, node: string): Promise<void> {
    const nodes = this.#m.nodes;
    const target = nodes.find((n) => n.name === node);
    if (!target)
      throw new UnknownNodeError(
        node,
        nodes.map((n) => n.name),
      );
    const me = this.#m.node;
    if (kind === "undrain") {
      const r = await this.#pool.query(ASK_UNDRAIN, [node, me]);
      if (r.rowCount !== 1) throw new DrainRefusedError(kind, node, `${node} is not drained`);
      return;
    }
    if (target.state === "down" || target.state === "left")
      throw new DrainRefusedError(
        kind,
        node,
        `${node} is ${target.state} (last heartbeat ${target.ageMs} ms ago): it serves nothing; bring it up first`,
      );
    if (target.drain === null || target.drain === undefined) {
      const away = nodes
        .filter((n) => n.name !== node && (n.drain || n.state === "down" || n.state === "left"))
        .map((n) => n.name);
      const room = nodes.filter((n) => n.name !== node && !n.drain && n.state === "up").map((n) => n.name);
      const counted = nodes.filter((n) => n.state === "up" || n.state === "suspect").map((n) => n.name);
      const ready = await readReadyCounts(this.#pool, counted);
      const refusal = drainRefusal(node, this.#components, ready, away, room);
      if (refusal) throw new DrainRefusedError(kind, node, refusal);
    }
    await this.#pool.query(ASK_DRAIN, [node, me]);
  }

  /** Follows the node's progress (a line at each change) until drained, undrained, or failed. */
  async follow(kind: DrainKind, node: string, send: (line: DrainLine) => void): Promise<DrainLine> {
    let last = "";
    let away = false;
    for (;;) {
      let row: Row | undefined;
      try {
        row = (await this.#pool.query<Row>(SELECT_DRAIN, [node])).rows[0];
        away = false;
      } catch (err) {
        if (!away)
          send({
            type: "warning",
            message: `the store did not answer (${(err as Error).message}); still following`,
          });
        away = true;
        await new Promise((r) => setTimeout(r, this.#m.heartbeatMs));
        continue;
      }
      const state = row?.state ?? null;
      const progress = row?.progress ?? null;
      const key = `${state} ${progress}`;
      if (key !== last && row) send({ type: "drain-progress", node, state, progress });
      last = key;
      const failed = progress?.startsWith("failed:") ?? false;
      const done = kind === "drain" ? state === "drained" || row === undefined : row === undefined;
      if (done || failed)
        return {
          type: "drain-result",
          node,
          ok: done && !failed && (kind === "undrain" || state === "drained"),
          state,
          progress,
        };
      await new Promise((r) => setTimeout(r, Math.min(200, this.#m.heartbeatMs)));
    }
  }
}
