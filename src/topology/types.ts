/**
 * @module topology/types
 * The compiled, fully-defaulted internal form of a topology file (design §2). User options are
 * compiled once by `compileTopology()`; nothing downstream re-applies a default. All durations are
 * milliseconds (`…Ms`), all paths absolute.
 *
 * Glossary (design §1): a **component** is a long-running program with 1..n **replicas**; a
 * **job** is a run-to-completion task; the **home** holds state, logs and the control socket.
 *
 * Per-replica placeholders `${port}` and `${replica}` are left in command, env, probe and hook
 * strings and rendered at spawn time with `renderTemplate()`; everything else (`${home}`,
 * `${node}`, environment variables) is interpolated at load time.
 */

import type { TopologyIssue } from "../errors.js";

/** A dependency is satisfied when the target has `started` (spawned), is `ready`, or `completed` (exited 0). */
export type DependencyCondition = "started" | "ready" | "completed";

export type RestartPolicyName = "no" | "on-failure" | "always";

/**
 * A command as written: a string (split into argv when it has no shell syntax, else run by
 * `/bin/sh -c`) or an argv array run directly. May contain `${port}` / `${replica}`.
 */
export type CommandSpec = string | string[];

interface ProbeTiming {
  /** Time between two attempts. @default 200 for readiness, 1000 for health */
  intervalMs: number;
  /** Time one attempt may take. @default 1000 */
  timeoutMs: number;
}

/** tcp: connect to `host:port`; `port` is a number or a template such as `${port}`. */
export interface TcpProbe extends ProbeTiming {
  kind: "tcp";
  host: string;
  port: string;
}
/**
 * http: GET `url`; 2xx/3xx passes. A path is resolved per replica against `http://<host>:${port}`,
 * host being 127.0.0.1, or in a cluster the node's advertised address (`STEWARD_ADVERTISE`).
 */
export interface HttpProbe extends ProbeTiming {
  kind: "http";
  url: string;
}
/** exec: run a command; exit 0 passes. */
export interface ExecProbe extends ProbeTiming {
  kind: "exec";
  command: CommandSpec;
}
/** log: a regular expression matched against what the replica wrote to its log since it started. */
export interface LogProbe extends ProbeTiming {
  kind: "log";
  pattern: string;
}
export type ProbeSpec = TcpProbe | HttpProbe | ExecProbe | LogProbe;

/** Readiness gate: fails closed when the probe has not passed `withinMs` after spawn. */
export type ReadySpec = ProbeSpec & { withinMs: number };

/** Active health check (used by the edge, issue 4). */
export type HealthSpec = ProbeSpec & { fall: number; rise: number };

export interface StopSpec {
  /** Signal sent to the replica's process group. @default "SIGTERM" */
  signal: NodeJS.Signals;
  /** Time between the signal and SIGKILL of the whole group. @default 30000 */
  graceMs: number;
}

export interface DrainSpec {
  /** Hook run before the stop signal (flush caches, hand off work); may be absent. */
  command?: CommandSpec;
  /** Bound on waiting for in-flight work and on the hook. @default 30000 */
  timeoutMs: number;
}

export interface RestartSpec {
  policy: RestartPolicyName;
  /** First backoff delay; doubles each time. @default 100 */
  backoffInitialMs: number;
  /** @default 30000 */
  backoffMaxMs: number;
  /** At most `limitCount` restarts within `limitWindowMs`, then the replica is `failed`. @default 5 in 60000 */
  limitCount: number;
  limitWindowMs: number;
}

export interface LogSpec {
  /** Rotate a replica's log when it grows past this many bytes. @default 10 MiB */
  maxBytes: number;
  /** Rotated files kept (`<n>.log.1` … `<n>.log.<keep>`). @default 5 */
  keep: number;
}

/**
 * `reseed:` compiled. On a node whose daemon registers after more than `afterMs` without a
 * heartbeat (database clock), `command` runs before the component's first start there, with
 * `${peer}`, `${peer_port}` and `${peer_node}` naming a ready replica on another `up` node.
 */
export interface ReseedSpec {
  command: CommandSpec;
  /** @default 3600000 (1 h, the manual's "long outage") */
  afterMs: number;
  /** Longest the command may run; then it is killed and the reseed failed. @default 1800000 (30 min) */
  timeoutMs: number;
}

export interface Dependency {
  component: string;
  condition: DependencyCondition;
}

export interface CompiledComponent {
  name: string;
  command: CommandSpec;
  /** Working directory. @default the topology file's directory */
  cwd: string;
  /**
   * With `patching`, a relative `cwd` is inside the edition the replica runs from (`.` by default):
   * the working directory is `<edition>/<editionCwd>`, chosen at spawn. Absent otherwise, and for an
   * absolute `cwd` (not editioned: never restarted by a cutover).
   */
  editionCwd?: string;
  /** Extra environment (values may contain `${port}` / `${replica}`). */
  env: Record<string, string>;
  /** @default 1 */
  replicas: number;
  /** True when any string of this component mentions `${port}`: a free port is allocated per replica. */
  usesPort: boolean;
  dependsOn: Dependency[];
  ready?: ReadySpec;
  health?: HealthSpec;
  stop: StopSpec;
  drain: DrainSpec;
  /** Runs before the next start when the last stop had to SIGKILL (the replica is invalidated). */
  recover?: CommandSpec;
  /** In a cluster: copy the data from a peer before the first start after a long absence (cluster/reseed). */
  reseed?: ReseedSpec;
  restart: RestartSpec;
  /** Error code the edge answers with while the component is offline. @default `<NAME>_OFFLINE` */
  offlineCode: string;
  /** For rolling operations and abandon decisions. @default 1 */
  minAvailable: number;
  logs: LogSpec;
  /**
   * Where the replicas run, in a cluster (design §7); absent without `cluster:`. With
   * `placement.perNode`, `replicas` is per node; without (`nodes: any`), it counts over the cluster.
   */
  placement?: CompiledPlacement;
}

/**
 * `placement:` compiled. `all`: every node runs `replicas`; a list: each named node runs
 * `replicas`; `any`: the primary places `replicas` over the nodes that are up, at most
 * `maxPerNode` on one, and places a down node's replicas again on the others.
 */
export interface CompiledPlacement {
  /** @default "all" */
  nodes: "all" | "any" | string[];
  /** True for `all` and a list (`replicas` per node); false for `any` (`replicas` over the cluster). */
  perNode: boolean;
  /** Most replicas of the component on one node: `max_per_node` for `any` (at most `replicas`). @default replicas */
  maxPerNode: number;
  /** `nodes: any` with one replica: a cluster singleton, never running on two nodes at once. */
  singleton: boolean;
}

export type StoreSpec = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Jobs, routes, patching and cluster are parsed and validated now, used by later issues. */
export interface CompiledJob {
  name: string;
  command: CommandSpec;
  cwd: string;
  /** As `CompiledComponent.editionCwd`: jobs run in the run edition. */
  editionCwd?: string;
  env: Record<string, string>;
  schedule?: string;
  /** Runs allowed at the same time; a scheduled run beyond it is skipped. @default 1 */
  concurrency: number;
  duringMaintenance: "wait" | "cancel";
  duringPatching: "run" | "hold";
}

/** A route's hold: new requests wait (bounded queue, bounded time) for a routable replica. */
export interface RouteHold {
  /** How long one request may wait. @default 10000 */
  timeoutMs: number;
  /** Requests waiting at once on this route; one more gets the 503. @default 1000 */
  maxQueued: number;
}

/** A route of the edge (design §5): requests to `listen` matching `host` and `path` go to `to`'s replicas. */
export interface CompiledRoute {
  /** TCP port the edge listens on. */
  listen: number;
  /** Address the edge binds for this port (`listen: 127.0.0.1:8080`). @default "0.0.0.0" (every IPv4 address) */
  address: string;
  /** Path prefix, matched on segment boundaries (`/api` matches `/api` and `/api/x`, not `/apix`). @default "/" */
  path: string;
  /** Host name (without port), case-insensitive; `*.example.com` matches one or more labels. @default any host */
  host?: string;
  /** The component whose replicas serve the route. */
  to: string;
  /** @default "round-robin" */
  balance: "round-robin" | "least-conn";
  /** `local`: in a cluster, this node's own replicas while it has a routable one, else every node's. @default every node's replicas alike */
  prefer?: "local";
  /** Present when the route holds requests while no replica is routable. */
  hold?: RouteHold;
  /** Largest request body accepted; a larger one gets `413`. @default 10 MiB */
  maxBodyBytes: number;
  /** Longest silence from a replica while it owes a response; then `504` (or a closed connection mid-response). @default 60000 */
  timeoutMs: number;
}

/** One listen address and port of the edge, with its limits (from `edge` and its routes). */
export interface CompiledListener {
  address: string;
  port: number;
  /** Client connections open at once on this listener; one more is refused (`503`). @default 10000 */
  maxConnections: number;
  /** Client connections open at once from one client address on this listener. @default 256 */
  maxConnectionsPerClient: number;
  /** Time a client has from the first byte of a request head to its end; then `408`. @default 10000 */
  headTimeoutMs: number;
}

/** `edge:` compiled: limits and the access log. */
export interface CompiledEdge {
  /** Rotation of `<home>/logs/edge/access.log` (as `defaults.logs`); null with `access_log: false`. */
  accessLog: LogSpec | null;
  /** Descriptors kept for the control API and supervision, out of the edge's reach. @default 256 */
  reservedFds: number;
  /** One per distinct listen address and port of the routes, in route order. */
  listeners: CompiledListener[];
}

export interface CompiledTopology {
  /** Absolute path of the topology file. */
  file: string;
  /** Directory of the topology file. */
  dir: string;
  name: string;
  /** Absolute path. @default `<dir>/.steward` */
  home: string;
  /** @default sqlite at `<home>/state.db` */
  store: StoreSpec;
  /** Components in file order. */
  components: CompiledComponent[];
  jobs: CompiledJob[];
  routes: CompiledRoute[];
  /** The edge's limits and access log. */
  edge: CompiledEdge;
  /**
   * What is valid but likely not meant (`max_per_node` × declared nodes below `replicas`), located
   * like errors; `steward validate` prints them. Absent when there are none.
   */
  warnings?: TopologyIssue[];
  /** Online patching (design §6), when the topology has a `patching` section. */
  patching?: CompiledPatching;
  /** Cluster mode (design §7), when the topology has a `cluster` section. */
  cluster?: CompiledCluster;
  /** The remote API listener (design §8), when the topology has a `control` section. */
  control?: CompiledControl;
}

/** `control:` compiled: where the remote API listens, and its TLS files. */
export interface CompiledControl {
  /** @default "127.0.0.1" (when `listen` is a bare port) */
  address: string;
  port: number;
  /** Absolute paths (relative ones are resolved against the topology file's directory). Absent: plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** Plain HTTP on an address other than loopback was allowed explicitly. @default false */
  insecure: boolean;
}

/** `cluster:` compiled, with this node's name resolved (`STEWARD_NODE`, `cluster.node`, hostname). */
export interface CompiledCluster {
  /** This node's name; also `${node}` and replicas' `STEWARD_NODE`. */
  node: string;
  /** What nodes compare to find drift: the file without what is each node's own (topology/cluster). */
  digest: string;
  /** The address other nodes and edges reach this node's replicas at. @default "127.0.0.1" */
  advertise: string;
  /** @default 1000 */
  heartbeatMs: number;
  /** Heartbeats a node may miss before it is `down`. @default 2 */
  allowedMisses: number;
  /** Term of the primary lease. @default 10000 */
  leaseMs: number;
  /** Nodes a rolling cluster operation takes at once. @default 1 */
  maxUnavailable: number;
  /** The declared members (`cluster.nodes`): `placement` lists name only these. Absent: not declared. */
  nodes?: string[];
}

/** `patching:` compiled: where the editions live and how a patch cycle syncs them. */
export interface CompiledPatching {
  /** Absolute: holds `fs1/`, `fs2/`, `fs_ne/` and the `run` and `patch` links. */
  root: string;
  /** How `prepare` brings the patch edition level with run. @default "patches" */
  sync: "patches" | "delta" | "clone";
  /** Paths `delta` neither copies nor deletes (gitignore-like). @default [] */
  exclude: string[];
  /** Commands `prepare` runs in the patch edition after syncing (`${edition}` is its directory). @default [] */
  customSync: CommandSpec[];
  /** Free space `prepare` wants beyond the run edition's size. @default 64 MiB */
  diskMarginBytes: number;
  /** Session log directories `cleanup` keeps. @default 10 */
  keepSessions: number;
}
