/**
 * @module cluster/claim
 * A daemon claims its node name at boot, in one transaction under the cluster's advisory lock
 * (two daemons claiming at once queue). The name is free when no row holds it, when it was left,
 * when its daemon is down by the database's clock (no heartbeat for heartbeat × (allowed_misses + 1)),
 * or when the row is this very node's — same hostname and home: its previous daemon, which the
 * home's lock says is gone. Otherwise the claim is refused and nothing is written.
 */
import type pg from "pg";
import { CLUSTER_LOCK_KEY, SELECT_NODE_FOR_CLAIM, UPSERT_NODE } from "./cluster-sql.js";
import { NodeNameTakenError } from "./errors.js";

export interface Claim {
  node: string;
  schema: string;
  session: string;
  advertise: string;
  hostname: string;
  home: string;
  pid: number;
  topologyDigest: string;
  heartbeatMs: number;
  allowedMisses: number;
}

interface HolderRow {
  name: string;
  session: string;
  advertise: string;
  hostname: string;
  home: string;
  pid: number;
  state: "up" | "left";
  age_ms: number;
  heartbeat_ms: number;
  allowed_misses: number;
}

/**
 * Returns how long the node had been away: the age of its previous heartbeat (or of its leave) by
 * the database's clock, or undefined when the name is new to the cluster.
 * @throws NodeNameTakenError (STW-5001) naming the live daemon that holds the name.
 */
export async function claimNode(client: pg.ClientBase, c: Claim): Promise<number | undefined> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [CLUSTER_LOCK_KEY]);
    const { rows } = await client.query<HolderRow>(SELECT_NODE_FOR_CLAIM, [c.node]);
    const holder = rows[0];
    if (holder !== undefined && liveElsewhere(holder, c)) {
      throw new NodeNameTakenError({
        node: c.node,
        pid: holder.pid,
        advertise: holder.advertise,
        hostname: holder.hostname,
        home: holder.home,
        heartbeatAgeMs: holder.age_ms,
      });
    }
    await client.query(UPSERT_NODE, [
      c.node,
      c.schema,
      c.session,
      c.advertise,
      c.hostname,
      c.home,
      c.pid,
      c.topologyDigest,
      c.heartbeatMs,
      c.allowedMisses,
    ]);
    await client.query("COMMIT");
    return holder?.age_ms;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

function liveElsewhere(h: HolderRow, c: Claim): boolean {
  if (h.state === "left") return false;
  if (h.hostname === c.hostname && h.home === c.home) return false; // this node's previous daemon
  const downAfter = h.heartbeat_ms * (h.allowed_misses + 1);
  return h.age_ms < downAfter;
}
