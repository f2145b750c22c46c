/**
 * @module cli/cluster
 * `steward cluster status [--json]`, `steward cluster leave [--drain]` and `steward cluster
 * drain|undrain NODE` (docs/cluster.md), and
 * the one line `steward status` prints about the cluster.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import type { ClusterView } from "../cluster/types.js";
import { formatMs } from "../process/duration.js";
import { call } from "./client.js";
import { table } from "./render.js";
import { renderPlacement } from "../cluster/placement-view.js";

export interface ClusterCliDeps {
  out: (line: string) => void;
  homeOf: (cmd: Command) => Promise<{ file: string; home: string }>;
  /** `steward down`: `cluster leave --drain` stops every replica through its stop budget, then leaves. */
  down: (cmd: Command) => Promise<void>;
}

export function registerCluster(program: Command, deps: ClusterCliDeps): void {
  const { out } = deps;
  const cluster = program.command("cluster").description("cluster mode: nodes sharing one PostgreSQL store");
  cluster
    .command("status")
    .description(
      "every node: state, address, heartbeat age, instance, primary and epoch, drift, its replicas",
    )
    .option("-f, --file <path>", "topology file")
    .option("--json", "print the cluster view as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const t = await deps.homeOf(cmd);
      const view = await call<ClusterView>(resolve(t.home, "steward.sock"), "GET", "/v1/cluster");
      out(opts.json ? JSON.stringify(view, null, 2) : renderClusterView(view));
    });
  cluster
    .command("leave")
    .description(
      "mark this node left and give up the primary lease; --drain: stop its replicas first (steward down)",
    )
    .option("-f, --file <path>", "topology file")
    .option("--drain", "stop every replica through its stop budget, then leave (the daemon exits)")
    .action(async (opts: { drain?: boolean }, cmd: Command) => {
      if (opts.drain) return deps.down(cmd); // an orderly down leaves the cluster as its last step
      const t = await deps.homeOf(cmd);
      await call(resolve(t.home, "steward.sock"), "POST", "/v1/cluster/leave", {});
      out("left the cluster: this node no longer heartbeats and holds no lease; its replicas keep running");
    });
  registerDrain(cluster, deps);
}

function registerDrain(cluster: Command, deps: ClusterCliDeps): void {
  for (const kind of ["drain", "undrain"] as const)
    cluster
      .command(`${kind} <node>`)
      .description(
        kind === "drain"
          ? "take a node out: other edges route around it, its `nodes: any` replicas are placed elsewhere first, then its replicas stop through their stop budgets"
          : "bring a drained node back: it starts what the drain stopped, and is routed again once ready",
      )
      .option("-f, --file <path>", "topology file")
      .action(async (node: string, _opts: unknown, cmd: Command) => {
        const t = await deps.homeOf(cmd);
        const { clusterDrain } = await import("./cluster-drain.js");
        await clusterDrain(t, kind, node, deps.out);
      });
}

export function renderClusterView(v: ClusterView): string {
  const head =
    v.primary === null
      ? `cluster: no primary (lease free or expired; epoch ${v.epoch})`
      : `cluster: primary ${v.primary} · epoch ${v.epoch} · lease ${formatMs(Math.max(0, v.leaseLeftMs))} left`;
  const rows = [["NODE", "STATE", "ADDRESS", "HEARTBEAT", "INSTANCE", "PID", "PRIMARY", "DRIFT"]];
  for (const n of v.nodes)
    rows.push([
      n.name + (n.name === v.self ? " (this)" : ""),
      n.drain ? `${n.state} (${n.drain})` : n.resync ? `${n.state} (resync)` : n.state,
      n.advertise,
      `${n.heartbeatAgeMs} ms ago`,
      n.instance === null ? "-" : String(n.instance),
      String(n.pid),
      n.primary ? `yes (epoch ${v.epoch})` : "",
      n.drift ? "drift" : "",
    ]);
  const replicas = [["NODE", "COMPONENT", "#", "STATE", "PID", "PORT"]];
  for (const n of v.nodes)
    for (const r of n.replicas ?? [])
      replicas.push([
        n.name,
        r.component,
        String(r.index),
        r.state,
        r.pid === null ? "-" : String(r.pid),
        r.port === null ? "-" : String(r.port),
      ]);
  const placement = renderPlacement(v.placement ?? []);
  return `${head}\n${table(rows)}\n\n${table(replicas)}${placement.length ? `\n\n${placement.join("\n")}` : ""}`;
}
