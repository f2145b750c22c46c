/**
 * @module cluster/operation-engine
 * Every node's part in cluster operations (journal: cluster/operations-sql). One **pass** at a
 * time: while primary, drive the open operations (fenced); then claim and run this node's
 * released steps through the daemon's own operation path (the same as `steward restart`). A pass
 * runs on each `NOTIFY steward_cluster_ops` (a connection of its own keeps `LISTEN`ing) and every
 * heartbeat, so a lost notification costs at most one heartbeat. Nothing here is held in memory
 * only: a new daemon, or a new primary, carries on from the journal.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { CompiledCluster } from "../topology/types.js";
import type { OperationResult } from "../lifecycle/supervisor.js";
import { clusterClientConfig, type Membership } from "./membership.js";
import {
  ASK,
  CLAIM,
  CREATE,
  END_STEP,
  FINISH,
  OPS_CHANNEL,
  PASS_READ,
  RELEASE,
  HALT,
  NOTE_WAITING,
  RELEASE_NODE,
  SELECT_OPERATION,
  SKIP_DOWN,
  STEPS_OF,
} from "./operations-sql.js";
import { outcomeOf, withOutcome } from "./fenced-write.js";
import { readReadyCounts } from "./ready-counts.js";
import { drivePatchRules } from "./patch-drive.js";
import { blockedRestart, type GateInput, type RestartImpact } from "./rolling-gate.js";
import { followOperation } from "./operation-follow.js";
import type {
  ClusterOperationKind,
  ClusterOperationLine,
  ClusterOperationView,
  PatchOperationArgs,
} from "./operation-types.js";

/** What a node needs from its daemon to run its steps. */
export interface StepExecutor {
  /** The local operation, exactly as `steward <kind> [component...]` runs it. */
  run(kind: Exclude<ClusterOperationKind, "patch">, components: string[]): Promise<OperationResult>;
  /** False while the daemon recovers or shuts down: steps wait for a later pass. */
  ready(): boolean;
  /** What one node's restart of `components` ([] = all) may take down of each component (cluster/rolling-gate). */
  restartImpact(components: string[]): Map<string, RestartImpact>;
  /** Each component's `min_available`. */
  minAvailable: ReadonlyMap<string, number>;
  /** A `patch` operation's phase on this node (cluster/patch-step); `outcome` says what it did. */
  patch(args: PatchOperationArgs, operationId: string): Promise<{ ok: boolean; outcome: string }>;
}

export interface EngineOptions {
  url: string;
  cluster: CompiledCluster;
  membership: Membership;
  log: (level: "info" | "warn" | "error", message: string) => void;
}

const ALL_AT_ONCE = 1_000_000;

interface OpenOperation {
  id: string;
  kind: ClusterOperationKind;
  state: "requested" | "running";
  maxUnavailable: number | null;
  components: string[];
  args: PatchOperationArgs | null;
}

interface MyStep {
  id: string;
  kind: ClusterOperationKind;
  components: string[];
  args: PatchOperationArgs | null;
}
const VERB: Record<Exclude<ClusterOperationKind, "patch">, string> = {
  start: "ready",
  stop: "stopped",
  restart: "ready",
};

/** Node by node past the rolling gate: a restart, and a patch cutover unless asked `together`. */
const rolling = (op: { kind: ClusterOperationKind; args: PatchOperationArgs | null }): boolean =>
  op.kind === "restart" ||
  (op.kind === "patch" && op.args?.phase === "cutover" && op.args.strategy !== "together");

export class ClusterOperations {
  readonly #o: EngineOptions;
  readonly #pool: pg.Pool;
  #executor: StepExecutor | undefined;
  #listener: pg.Client | undefined;
  /** Closes the listening connection; the next heartbeat opens a new one. */
  #dropListener: () => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Steps this daemon runs now (by operation id). */
  readonly #running = new Set<string>();
  readonly #watchers = new Set<() => void>();

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#pool = new pg.Pool({ ...clusterClientConfig(o.url, o.cluster), max: 2, idleTimeoutMillis: 30_000 });
    this.#pool.on("error", () => undefined);
  }

  /** Starts listening and polling; steps run through `executor`. */
  start(executor: StepExecutor): void {
    this.#executor = executor;
    this.#tick();
  }

  /** Asks for an operation (any node may); the primary takes it. Returns its id. */
  async ask(kind: ClusterOperationKind, components: string[], args?: PatchOperationArgs): Promise<string> {
    const id = randomUUID();
    await this.#pool.query(ASK, [
      id,
      kind,
      JSON.stringify(components),
      this.#o.membership.node,
      args ? JSON.stringify(args) : null,
    ]);
    await this.#notify();
    this.kick();
    return id;
  }

  /**
   * Why a restart could not keep every `min_available` even before anything restarts: the first
   * node (in step order) whose own restart would break one with today's ready replicas.
   */
  async refusal(
    kind: ClusterOperationKind,
    components: string[],
    args?: PatchOperationArgs,
  ): Promise<{ node: string; reason: string } | undefined> {
    if (!rolling({ kind, args: args ?? null }) || !this.#executor) return undefined;
    const nodes = this.#o.membership.nodes
      .filter((n) => n.state === "up" || n.state === "suspect")
      .map((n) => n.name)
      .sort();
    const gate = await this.#gate(components, nodes);
    for (const node of nodes) {
      const reason = blockedRestart(node, [], gate);
      if (reason) return { node, reason };
    }
    return undefined;
  }

  async #gate(components: string[], nodes: string[]): Promise<GateInput> {
    return {
      impact: this.#executor!.restartImpact(components),
      minAvailable: this.#executor!.minAvailable,
      ready: await readReadyCounts(this.#pool, nodes),
    };
  }

  /** Asks, then follows the operation (lines to `send`) until it has ended on every node. */
  async operate(
    kind: ClusterOperationKind,
    components: string[],
    send: (line: ClusterOperationLine) => void,
    args?: PatchOperationArgs,
  ): Promise<ClusterOperationView> {
    const id = await this.ask(kind, components, args);
    return followOperation(this, id, this.#o.cluster.heartbeatMs, send);
  }

  /** The operation and its steps as the journal has them now. */
  async read(id: string): Promise<ClusterOperationView | undefined> {
    const { rows } = await this.#pool.query<ClusterOperationView>(SELECT_OPERATION, [id]);
    return rows[0];
  }

  /** Resolves at the next notification or pass, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.#watchers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#watchers.add(done);
    });
  }

  /** Runs a pass now (or right after the one under way). */
  kick(): void {
    if (this.#closed) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#pass = this.#passOnce()
      // The store away: the next heartbeat's pass tries again, on a new listening connection (one
      // cut off silently would never deliver another notification).
      .catch(() => this.#dropListener())
      .finally(() => {
        this.#pass = undefined;
        for (const w of [...this.#watchers]) w();
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  #tick(): void {
    if (this.#closed) return;
    if (!this.#listener) void this.#listen();
    this.kick();
    this.#timer = setTimeout(() => this.#tick(), this.#o.cluster.heartbeatMs);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ ...clusterClientConfig(this.#o.url, this.#o.cluster), query_timeout: 0 });
    this.#listener = client;
    let dropped = false;
    const drop = (): void => {
      if (this.#listener === client) this.#listener = undefined;
      if (dropped) return;
      dropped = true;
      void client.end().catch(() => undefined);
    };
    this.#dropListener = drop;
    client.on("error", drop);
    client.on("end", drop);
    client.on("notification", () => this.kick());
    try {
      await client.connect();
      await client.query(`LISTEN ${OPS_CHANNEL}`);
      if (this.#closed) drop();
    } catch {
      drop(); // the next heartbeat tries again
    }
  }

  async #notify(): Promise<void> {
    await this.#pool.query(`NOTIFY ${OPS_CHANNEL}`);
  }

  async #passOnce(): Promise<void> {
    const m = this.#o.membership;
    const { rows } = await this.#pool.query<{ open: OpenOperation[]; mine: MyStep[] }>(PASS_READ, [
      m.node,
      m.session,
    ]);
    const { open, mine } = rows[0] ?? { open: [], mine: [] };
    const epoch = m.primaryEpoch();
    const drove = epoch === null || open.length === 0 ? 0 : await this.#drive(epoch, open);
    if (drove > 0) {
      await this.#notify();
      this.#again = true; // a step it released may be this node's own: read again at once
    }
    await this.#runMine(mine);
  }

  /** The primary's part: take requests, skip the down, release steps, finish. Returns rows changed. */
  async #drive(epoch: number, rows: OpenOperation[]): Promise<number> {
    const me = this.#o.membership.node;
    let changed = 0;
    for (const op of rows) {
      const fence = [me, epoch, op.id];
      if (op.state === "requested") {
        const max = this.#o.cluster.maxUnavailable;
        const r = await this.#pool.query<{ created: number }>(CREATE, [...fence, max]);
        const taken = r.rows[0]?.created === 1;
        this.#o.membership.fencedWrite("operations", taken ? "accepted" : "rejected");
        if (!taken) return changed; // fenced out: no longer primary
        changed += 1;
        op.maxUnavailable = max;
        this.#o.log("info", `cluster: operation ${op.kind} ${op.id} taken (epoch ${epoch})`);
      }
      if (op.kind === "patch" && this.#executor)
        changed += await drivePatchRules({
          pool: this.#pool,
          fenced: (sql, params) => this.#fenced(sql, params),
          fence,
          op,
          membership: this.#o.membership,
          minAvailable: this.#executor.minAvailable,
          log: this.#o.log,
        });
      else changed += await this.#fenced(SKIP_DOWN, fence);
      if (rolling(op)) changed += await this.#driveRolling(fence, op);
      else changed += await this.#fenced(RELEASE, [...fence, ALL_AT_ONCE]);
      const finished = await this.#fenced(FINISH, fence);
      if (finished > 0) this.#o.log("info", `cluster: operation ${op.kind} ${op.id} finished`);
      changed += finished;
    }
    return changed;
  }

  /**
   * A restart goes node by node: at most `max_unavailable` steps under way, the next node released
   * only past the rolling gate (`min_available` counted over the cluster), and nothing more once a
   * step failed. A waiting step says why it waits. Returns rows changed.
   */
  async #driveRolling(fence: unknown[], op: OpenOperation): Promise<number> {
    const { rows: steps } = await this.#pool.query<{ node: string; state: string; outcome: string | null }>(
      STEPS_OF,
      [op.id],
    );
    const failed = steps.find((s) => s.state === "failed");
    if (failed) {
      const what = op.kind === "patch" ? `patch ${op.args?.phase ?? ""}` : op.kind;
      const why = `not run: the ${what} halted after ${failed.node}'s step failed; the nodes not yet done keep serving as they are`;
      return this.#fenced(HALT, [...fence, why]);
    }
    const busy = steps.filter((s) => s.state === "released" || s.state === "running").map((s) => s.node);
    const next = steps.find((s) => s.state === "waiting");
    if (!next || busy.length >= (op.maxUnavailable ?? 1) || !this.#executor) return 0;
    const counted = this.#o.membership.nodes.filter((n) => n.state === "up" || n.state === "suspect");
    const gate = await this.#gate(
      op.components,
      counted.map((n) => n.name),
    );
    const blocked = blockedRestart(next.node, busy, gate);
    if (blocked !== undefined) {
      const note = `waits: ${blocked}`;
      return this.#fenced(NOTE_WAITING, [...fence, next.node, note]);
    }
    return this.#fenced(RELEASE_NODE, [...fence, next.node]);
  }

  /** One of the primary's fenced updates, counted in the membership status; returns rows changed. */
  async #fenced(update: string, params: unknown[]): Promise<number> {
    const { rows } = await this.#pool.query<{ changed: number; held: boolean }>(withOutcome(update), params);
    this.#o.membership.fencedWrite("operations", outcomeOf(rows[0]));
    return rows[0]?.changed ?? 0;
  }

  /** This node's part: claim each released step (or one an earlier daemon left running) and run it. */
  async #runMine(rows: MyStep[]): Promise<void> {
    if (!this.#executor?.ready()) return;
    const m = this.#o.membership;
    for (const step of rows) {
      if (this.#running.has(step.id)) continue;
      const claimed = await this.#pool.query<{ runs: number }>(CLAIM, [step.id, m.node, m.session]);
      if (claimed.rowCount !== 1) continue;
      this.#running.add(step.id);
      await this.#notify();
      const again =
        (claimed.rows[0]?.runs ?? 1) > 1 ? " (again: an earlier daemon of this node was cut short)" : "";
      this.#o.log("info", `cluster: step ${step.kind} of operation ${step.id} on ${m.node}${again}`);
      void this.#execute(step);
    }
  }

  async #execute(step: MyStep): Promise<void> {
    let state: "done" | "failed";
    let outcome: string;
    try {
      if (step.kind === "patch") {
        const r = await this.#executor!.patch(step.args!, step.id);
        return await this.#end(step, r.ok ? "done" : "failed", r.outcome);
      }
      const r = await this.#executor!.run(step.kind, step.components);
      state = r.ok ? "done" : "failed";
      const n = r.components.length;
      outcome = r.ok
        ? `${n} component${n === 1 ? "" : "s"} ${VERB[step.kind]}`
        : r.components
            .filter((c) => !c.ok)
            .map((c) => `${c.name}: ${c.error ?? "failed"}`)
            .join("; ");
    } catch (err) {
      state = "failed";
      outcome = (err as Error).message;
    }
    await this.#end(step, state, outcome);
  }

  /** Writes a step's end (the store may be away: the outcome is kept until it is written). */
  async #end(step: MyStep, state: "done" | "failed", outcome: string): Promise<void> {
    const m = this.#o.membership;
    while (!this.#closed) {
      try {
        await this.#pool.query(END_STEP, [step.id, m.node, m.session, state, outcome]);
        await this.#notify();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, this.#o.cluster.heartbeatMs));
      }
    }
    this.#running.delete(step.id);
    this.kick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of [...this.#watchers]) w();
    await this.#pass?.catch(() => undefined);
    await this.#listener?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }
}
