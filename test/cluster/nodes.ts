/**
 * Runs N cluster nodes on this machine for a test: separate homes, names n1..nN, advertised
 * addresses 127.0.0.1..127.0.0.N, each reaching the test's PostgreSQL database through its own
 * relay (./relay.ts). Short timings (heartbeat 200 ms, 2 misses, lease 2 s) keep tests quick.
 */
import fs from "node:fs";
import path from "node:path";
import { createDatabase, dropDatabase, pgAdmin } from "../store/fixtures/postgres.js";
import { api, homeOf, node, project, steward, type CliResult } from "../integration/helpers.js";
import type { ClusterView, MembershipStatus } from "../../src/cluster/types.js";
import type { StatusDocument } from "../../src/daemon/status.js";
import { Relay } from "./relay.js";

/** The pid in `<home>/daemon.pid`, if any. */
export function daemonPid(dir: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(homeOf(dir), "daemon.pid"), "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

export const TIMING = { heartbeatMs: 200, allowedMisses: 2, leaseMs: 2000 };

export interface ClusterNode {
  name: string;
  dir: string;
  relay: Relay;
  advertise: string;
}

export class TestCluster {
  readonly db: string;
  readonly nodes: ClusterNode[];

  private constructor(db: string, nodes: ClusterNode[]) {
    this.db = db;
    this.nodes = nodes;
  }

  /** Creates the database, one relay and one project per node (nothing started). */
  static async create(label: string, count: number, components = defaultComponents()): Promise<TestCluster> {
    const db = await createDatabase(label);
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= count; i += 1) {
      const advertise = `127.0.0.${i}`;
      const relay = await Relay.start(advertise);
      const name = `n${i}`;
      const dir = project(topology(db, relay, name, advertise, components));
      nodes.push({ name, dir, relay, advertise });
    }
    return new TestCluster(db, nodes);
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  up(name: string, ...extra: string[]): Promise<CliResult> {
    return steward(this.node(name).dir, "up", ...extra);
  }

  /** `GET /v1/status` of a node. */
  async status(name: string): Promise<StatusDocument & { cluster?: MembershipStatus }> {
    const res = await api(this.node(name).dir, "GET", "/v1/status");
    if (res.status !== 200) throw new Error(`${name}: status answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as StatusDocument;
  }

  /** `GET /v1/cluster` of a node. */
  async view(name: string): Promise<ClusterView> {
    const res = await api(this.node(name).dir, "GET", "/v1/cluster");
    if (res.status !== 200) throw new Error(`${name}: cluster answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as ClusterView;
  }

  /** The lease row as the database has it, read directly. */
  async lease(): Promise<{ holder: string | null; epoch: number; live: boolean }> {
    const rows = await pgAdmin<{ holder: string | null; epoch: string; live: boolean }>(
      "SELECT holder, epoch, expires_at > clock_timestamp() AS live FROM steward_cluster.primary_lease",
      [],
      this.db,
    );
    const r = rows[0]!;
    return { holder: r.holder, epoch: Number(r.epoch), live: r.live };
  }

  /** Every node's daemon down (paused ones resumed first), then the relays closed and the database dropped. */
  async close(): Promise<void> {
    for (const n of this.nodes) {
      const pid = daemonPid(n.dir);
      if (pid !== undefined) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // already gone
        }
      }
      n.relay.restore();
    }
    await Promise.all(this.nodes.map((n) => steward(n.dir, "down").catch(() => undefined)));
    for (const n of this.nodes) await n.relay.close().catch(() => undefined);
    await dropDatabase(this.db).catch(() => undefined);
  }
}

export function defaultComponents(): string {
  return `  web:
    command: ${node("forever.js")}
    replicas: 2
    env: { NODE_NAME: "\${node}" }
`;
}

function topology(db: string, relay: Relay, name: string, advertise: string, components: string): string {
  return `name: shop
store: postgres://postgres@${relay.host}:${relay.port}/${db}
cluster:
  node: ${name}
  advertise: ${advertise}
  heartbeat: ${TIMING.heartbeatMs}ms
  allowed_misses: ${TIMING.allowedMisses}
  lease: ${TIMING.leaseMs}ms
components:
${components}`;
}
