/**
 * @module topology/compile
 * The one place defaults are applied (design §11): validated input → fully-defaulted
 * `CompiledTopology`, with milliseconds, bytes and absolute paths. `defaults.*` sits between the
 * built-in defaults and each component's own settings.
 */
import { hostname } from "node:os";
import { basename, isAbsolute, join, normalize, resolve } from "node:path";
import { compileCluster } from "./cluster.js";
import { compileControl } from "./control.js";
import { templateVariables } from "./render.js";
import type { ComponentInput, JobInput, RouteInput, TopologyInput } from "./schema.js";
import { DEFAULTS, defaultOfflineCode } from "./defaults.js";
import { compilePlacement } from "./placement.js";
import type {
  CommandSpec,
  CompiledComponent,
  CompiledEdge,
  CompiledListener,
  CompiledJob,
  CompiledPatching,
  CompiledRoute,
  CompiledTopology,
  HealthSpec,
  ProbeSpec,
  ReadySpec,
  RouteHold,
} from "./types.js";

export interface CompileContext {
  /** Absolute path of the topology file. */
  file: string;
  /** Absolute home (already resolved by the loader, since `${home}` is interpolated at load time). */
  home: string;
  /** This node's name (`${node}`). @default os.hostname() */
  node?: string;
  /** `clusterDigest()` of the file as parsed. */
  clusterDigest?: string;
  /** Raw (interpolated) `patching` and `cluster` sections, kept as written for later issues. */
  raw?: { patching?: Record<string, unknown>; cluster?: Record<string, unknown> };
}

/** Turns validated input into the fully-defaulted compiled form. */
export function compileTopology(input: TopologyInput, ctx: CompileContext): CompiledTopology {
  const dir = resolve(ctx.file, "..");
  const store = input.store ?? { kind: "sqlite" };
  const patching = input.patching ? compilePatching(input.patching, dir) : undefined;
  const editioned = <T extends { cwd: string }>(compiled: T, cwd: string | undefined): T =>
    patching && (cwd === undefined || !isAbsolute(cwd))
      ? { ...compiled, editionCwd: normalize(cwd ?? ".") }
      : compiled;
  const components = Object.entries(input.components ?? {}).map(([name, c]) => {
    const compiled = editioned(compileComponent(name, c, input.defaults ?? {}, dir), c.cwd);
    // In a cluster every component has a placement (`nodes: all` by default); none without one.
    return input.cluster
      ? { ...compiled, placement: compilePlacement(c.placement, compiled.replicas) }
      : compiled;
  });
  return {
    file: ctx.file,
    dir,
    name: input.name ?? basename(dir),
    home: ctx.home,
    store: store.kind === "sqlite" ? { kind: "sqlite", path: join(ctx.home, "state.db") } : store,
    components,
    jobs: Object.entries(input.jobs ?? {}).map(([name, j]) => editioned(compileJob(name, j, dir), j.cwd)),
    routes: (input.routes ?? []).map(compileRoute),
    edge: compileEdge(input),
    ...(patching ? { patching } : {}),
    ...(input.cluster
      ? { cluster: compileCluster(input.cluster, ctx.node ?? hostname(), ctx.clusterDigest ?? "") }
      : {}),
    ...(input.control ? { control: compileControl(input.control, dir) } : {}),
  };
}

type Defaults = NonNullable<TopologyInput["defaults"]>;

function compilePatching(p: NonNullable<TopologyInput["patching"]>, dir: string): CompiledPatching {
  return {
    root: resolve(dir, p.root),
    sync: p.sync ?? "patches",
    exclude: p.exclude ?? [],
    customSync: p.custom_sync ?? [],
    diskMarginBytes: p.disk_margin ?? 64 * 1024 * 1024,
    keepSessions: p.keep_sessions ?? 10,
  };
}

function compileComponent(name: string, c: ComponentInput, d: Defaults, dir: string): CompiledComponent {
  const stop = { ...d.stop, ...c.stop };
  const drain = { ...d.drain, ...c.drain };
  const restart = { ...d.restart, ...c.restart };
  const logs = { ...d.logs, ...c.logs };
  const compiled: CompiledComponent = {
    name,
    command: c.command,
    cwd: resolve(dir, c.cwd ?? "."),
    env: c.env ?? {},
    // Per node, or with `placement.nodes: any` over the cluster (the checks allow one of the two).
    replicas: c.replicas ?? c.placement?.replicas ?? DEFAULTS.replicas,
    usesPort: false,
    dependsOn: c.depends_on ?? [],
    ...(c.ready ? { ready: compileReady(c.ready) } : {}),
    ...(c.health ? { health: compileHealth(c.health) } : {}),
    stop: { signal: stop.signal ?? DEFAULTS.stop.signal, graceMs: stop.grace ?? DEFAULTS.stop.graceMs },
    drain: {
      ...(drain.command !== undefined ? { command: drain.command } : {}),
      timeoutMs: drain.timeout ?? DEFAULTS.drain.timeoutMs,
    },
    ...(c.recover !== undefined ? { recover: c.recover } : {}),
    ...(c.reseed !== undefined
      ? {
          reseed: {
            command: c.reseed.command,
            afterMs: c.reseed.after ?? DEFAULTS.reseed.afterMs,
            timeoutMs: c.reseed.timeout ?? DEFAULTS.reseed.timeoutMs,
          },
        }
      : {}),
    restart: {
      policy: restart.policy ?? DEFAULTS.restart.policy,
      backoffInitialMs: restart.backoff?.initialMs ?? DEFAULTS.restart.backoffInitialMs,
      backoffMaxMs: restart.backoff?.maxMs ?? DEFAULTS.restart.backoffMaxMs,
      limitCount: restart.limit?.count ?? DEFAULTS.restart.limitCount,
      limitWindowMs: restart.limit?.windowMs ?? DEFAULTS.restart.limitWindowMs,
    },
    offlineCode: c.offline_code ?? defaultOfflineCode(name),
    minAvailable: c.min_available ?? DEFAULTS.minAvailable,
    logs: { maxBytes: logs.max_size ?? DEFAULTS.logs.maxBytes, keep: logs.keep ?? DEFAULTS.logs.keep },
  };
  compiled.usesPort = templateStrings(compiled).some((s) => templateVariables(s).has("port"));
  return compiled;
}

/** The strings of a component rendered at spawn time. */
export function templateStrings(c: CompiledComponent): string[] {
  const cmd = (x: CommandSpec | undefined): string[] =>
    x === undefined ? [] : typeof x === "string" ? [x] : x;
  const probe = (p: ProbeSpec | undefined): string[] => {
    if (!p) return [];
    if (p.kind === "tcp") return [p.host, p.port];
    if (p.kind === "http") return [p.url.startsWith("/") ? "${port}" : p.url]; // a path is probed on `${port}`
    if (p.kind === "exec") return cmd(p.command);
    return [p.pattern];
  };
  return [
    ...cmd(c.command),
    ...Object.values(c.env),
    ...probe(c.ready),
    ...probe(c.health),
    ...cmd(c.drain.command),
    ...cmd(c.recover),
  ];
}

type ProbeInput = NonNullable<ComponentInput["ready"]> | NonNullable<ComponentInput["health"]>;

function compileProbe(p: ProbeInput, timing: { intervalMs: number; timeoutMs: number }): ProbeSpec {
  const t = { intervalMs: p.interval ?? timing.intervalMs, timeoutMs: p.timeout ?? timing.timeoutMs };
  if (p.tcp) return { kind: "tcp", ...p.tcp, ...t };
  // A path stays a path: it is resolved per replica, against the address it is reached at (the
  // node's advertised one in a cluster; process/probes, edge/health) and its `${port}`.
  if (p.http) return { kind: "http", url: p.http, ...t };
  if (p.exec) return { kind: "exec", command: p.exec, ...t };
  return { kind: "log", pattern: "log" in p ? (p.log ?? "") : "", ...t };
}

function compileReady(r: NonNullable<ComponentInput["ready"]>): ReadySpec {
  return { ...compileProbe(r, DEFAULTS.ready), withinMs: r.within ?? DEFAULTS.ready.withinMs };
}

function compileHealth(h: NonNullable<ComponentInput["health"]>): HealthSpec {
  return {
    ...compileProbe(h, DEFAULTS.health),
    fall: h.fall ?? DEFAULTS.health.fall,
    rise: h.rise ?? DEFAULTS.health.rise,
  };
}

function compileJob(name: string, j: JobInput, dir: string): CompiledJob {
  return {
    name,
    command: j.command,
    cwd: resolve(dir, j.cwd ?? "."),
    env: j.env ?? {},
    ...(j.schedule !== undefined ? { schedule: j.schedule } : {}),
    concurrency: j.concurrency ?? 1,
    duringMaintenance: j.during_maintenance ?? "wait",
    duringPatching: j.during_patching ?? "run",
  };
}

/**
 * The edge's listeners and their limits: a route's own value, else `edge`'s, else the default.
 * (Routes sharing a port that disagree are a topology error, found by the cross checks.)
 */
function compileEdge(input: TopologyInput): CompiledEdge {
  const e = input.edge ?? {};
  const d = DEFAULTS.edge;
  const listeners = new Map<string, CompiledListener>();
  for (const r of input.routes ?? []) {
    const address = r.listen.address ?? DEFAULTS.route.address;
    const key = `${address}|${r.listen.port}`;
    const l = listeners.get(key) ?? {
      address,
      port: r.listen.port,
      maxConnections: e.max_connections ?? d.maxConnections,
      maxConnectionsPerClient: e.max_connections_per_client ?? d.maxConnectionsPerClient,
      headTimeoutMs: e.head_timeout ?? d.headTimeoutMs,
    };
    if (r.max_connections !== undefined) l.maxConnections = r.max_connections;
    if (r.max_connections_per_client !== undefined) l.maxConnectionsPerClient = r.max_connections_per_client;
    if (r.head_timeout !== undefined) l.headTimeoutMs = r.head_timeout;
    listeners.set(key, l);
  }
  const logs = input.defaults?.logs ?? {};
  return {
    accessLog:
      e.access_log === false
        ? null
        : { maxBytes: logs.max_size ?? DEFAULTS.logs.maxBytes, keep: logs.keep ?? DEFAULTS.logs.keep },
    reservedFds: e.reserved_fds ?? d.reservedFds,
    listeners: [...listeners.values()],
  };
}

function compileRoute(r: RouteInput): CompiledRoute {
  const h = r.hold;
  const hold: RouteHold | undefined =
    h === undefined || h === false
      ? undefined
      : h === true
        ? { ...DEFAULTS.hold }
        : typeof h === "number"
          ? { timeoutMs: h, maxQueued: DEFAULTS.hold.maxQueued }
          : {
              timeoutMs: h.timeout ?? DEFAULTS.hold.timeoutMs,
              maxQueued: h.queue ?? DEFAULTS.hold.maxQueued,
            };
  return {
    listen: r.listen.port,
    address: r.listen.address ?? DEFAULTS.route.address,
    path: r.path ?? "/",
    ...(r.host !== undefined ? { host: r.host.toLowerCase() } : {}),
    to: r.to,
    balance: r.balance ?? "round-robin",
    ...(r.prefer !== undefined ? { prefer: r.prefer } : {}),
    ...(hold ? { hold } : {}),
    maxBodyBytes: r.max_body ?? DEFAULTS.route.maxBodyBytes,
    timeoutMs: r.timeout ?? DEFAULTS.route.timeoutMs,
  };
}
