/**
 * @module topology/schema
 * The topology file as written (design §2), as a strict zod schema: an unknown key is an error.
 * Leaf values are normalised on the way (durations to ms, sizes to bytes, `depends_on` to a list);
 * defaults are applied afterwards, once, by `compileTopology()`.
 */
import { isIP } from "node:net";
import { Cron } from "croner";
import * as z from "zod";
import { excludePattern } from "./exclude-pattern.js";
import { clusterNodesSchema, placementSchema } from "./placement-schema.js";
import type { Dependency, DependencyCondition } from "./types.js";
import { backoff, command, httpTarget, pattern, restartLimit, signal, tcpTarget } from "./values-process.js";
import { describeValue, duration, envName, envValue, integer, leaf, oneOf, size, text } from "./values.js";
import { nodeName } from "./node-name.js";

const CONDITIONS = ["started", "ready", "completed"] as const satisfies readonly DependencyCondition[];

const env = z.record(envName, envValue);

/** Adds an issue unless exactly one of `keys` is present. */
function exactlyOne(keys: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const present = keys.filter((k) => v[k] !== undefined);
    if (present.length === 1) return;
    const list = keys.map((k) => `\`${k}\``).join(", ");
    ctx.addIssue({
      code: "custom",
      message:
        present.length === 0
          ? `expected one probe: ${list}`
          : `expected one probe, got ${present.map((k) => `\`${k}\``).join(" and ")}`,
    });
  };
}

const probeTiming = { interval: duration.optional(), timeout: duration.optional() };

export const readySchema = z
  .strictObject({
    tcp: tcpTarget.optional(),
    http: httpTarget.optional(),
    exec: command.optional(),
    log: pattern.optional(),
    within: duration.optional(),
    ...probeTiming,
  })
  .superRefine(exactlyOne(["tcp", "http", "exec", "log"]));

export const healthSchema = z
  .strictObject({
    http: httpTarget.optional(),
    tcp: tcpTarget.optional(),
    exec: command.optional(),
    ...probeTiming,
    fall: integer(1).optional(),
    rise: integer(1).optional(),
  })
  .superRefine(exactlyOne(["http", "tcp", "exec"]));

export const stopSchema = z.strictObject({ signal: signal.optional(), grace: duration.optional() });

export const drainSchema = z.strictObject({ command: command.optional(), timeout: duration.optional() });

export const restartSchema = z.strictObject({
  policy: oneOf(["no", "on-failure", "always"]).optional(),
  backoff: backoff.optional(),
  limit: restartLimit.optional(),
});

/**
 * `reseed`: in a cluster, the command that copies this component's data from a peer node's ready
 * replica before its first start on a node that was away longer than `after` (cluster/reseed).
 */
export const reseedSchema = z.strictObject({
  command,
  after: duration.optional(),
  timeout: duration.optional(),
});

export const logsSchema = z.strictObject({ max_size: size.optional(), keep: integer(0).optional() });

/** `depends_on`: a mapping name → condition, or a list of names (each meaning `ready`). */
export const dependsOnSchema = z
  .union([z.array(z.string()), z.record(z.string(), oneOf(CONDITIONS))], {
    error: "expected a mapping of component → `started`, `ready` or `completed`, or a list of components",
  })
  .transform((v): Dependency[] =>
    Array.isArray(v)
      ? v.map((component) => ({ component, condition: "ready" }))
      : Object.entries(v).map(([component, condition]) => ({ component, condition })),
  );

export const componentSchema = z.strictObject({
  command,
  cwd: text.optional(),
  env: env.optional(),
  replicas: integer(1).optional(),
  depends_on: dependsOnSchema.optional(),
  ready: readySchema.optional(),
  health: healthSchema.optional(),
  stop: stopSchema.optional(),
  drain: drainSchema.optional(),
  recover: command.optional(),
  reseed: reseedSchema.optional(),
  restart: restartSchema.optional(),
  offline_code: leaf<string>((v) =>
    typeof v === "string" && /^[A-Za-z0-9_]+$/.test(v)
      ? { value: v }
      : {
          problem: `expected a code of letters, digits and \`_\` like \`ENGINE_OFFLINE\`, got ${describeValue(v)}`,
        },
  ).optional(),
  min_available: integer(0).optional(),
  logs: logsSchema.optional(),
  placement: placementSchema.optional(),
});

/** A cron expression (5 or 6 fields, or `@daily`…), checked with croner. */
const schedule = leaf<string>((v) => {
  if (typeof v !== "string")
    return { problem: `expected a cron expression like \`0 2 * * *\`, got ${describeValue(v)}` };
  try {
    new Cron(v, { paused: true }).stop();
    return { value: v };
  } catch (err) {
    return {
      problem: `\`${v}\` is not a valid schedule: ${(err as Error).message.replace(/^CronPattern: /, "")}`,
    };
  }
});

export const jobSchema = z.strictObject({
  command,
  cwd: text.optional(),
  env: env.optional(),
  schedule: schedule.optional(),
  /** Runs of this job allowed at the same time. @default 1 */
  concurrency: integer(1).optional(),
  during_maintenance: oneOf(["wait", "cancel"]).optional(),
  during_patching: oneOf(["run", "hold"]).optional(),
});

/** `hold`: `true` (10 s, 1000 queued), a duration, or `{ timeout, queue }`. */
export const holdSchema = z.union(
  [z.boolean(), duration, z.strictObject({ timeout: duration.optional(), queue: integer(1).optional() })],
  { error: "expected `true`, a duration like `10s`, or `{ timeout, queue }`" },
);

/** What `listen` names: a port, and the address to bind when one is given. */
export interface ListenInput {
  address?: string;
  port: number;
}

const LISTEN_EXPECTED = "expected a port like `8080` or an address and port like `127.0.0.1:8080`";

/**
 * Parses a route's `listen`: a port (`8080`, also as a string of digits so `${PORT}` works), or an
 * IP address and a port (`127.0.0.1:8080`, `[::1]:8080`).
 * @example parseListen("127.0.0.1:8080") // { value: { address: "127.0.0.1", port: 8080 } }
 */
export function parseListen(v: unknown): { value: ListenInput } | { problem: string } {
  const fail = { problem: `${LISTEN_EXPECTED}, got ${describeValue(v)}` };
  const portOf = (s: string): number | undefined => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
  };
  if (typeof v === "number")
    return Number.isInteger(v) && v >= 1 && v <= 65535 ? { value: { port: v } } : fail;
  if (typeof v !== "string") return fail;
  const s = v.trim();
  if (/^\d+$/.test(s)) {
    const p = portOf(s);
    return p === undefined ? fail : { value: { port: p } };
  }
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(s);
  const address = m?.[1] ?? m?.[2];
  const p = m?.[3] === undefined ? undefined : portOf(m[3]);
  if (address === undefined || p === undefined) return fail;
  const family = isIP(address);
  if (family === 0 || (family === 6 && m?.[1] === undefined)) {
    return {
      problem: `${LISTEN_EXPECTED}: \`${address}\` is not an IP address (write IPv6 in brackets: \`[::1]:8080\`)`,
    };
  }
  return { value: { address, port: p } };
}

/** A duration from `minMs` to `maxMs`. */
function durationWithin(minMs: number, maxMs: number, words: string): z.ZodType<number> {
  return leaf<number>((v) => {
    const r = duration.safeParse(v);
    if (!r.success) return { problem: r.error.issues[0]?.message ?? `expected a duration like \`10s\`` };
    if (r.data < minMs || r.data > maxMs)
      return { problem: `expected a duration ${words}, got ${describeValue(v)}` };
    return { value: r.data };
  });
}

/** The edge's limits that apply to a listener: on a route (its port's listener) or in `edge` (every listener). */
const listenerLimits = {
  max_connections: integer(1, 1_000_000).optional(),
  max_connections_per_client: integer(1, 1_000_000).optional(),
  head_timeout: durationWithin(100, 600_000, "from `100ms` to `10m`").optional(),
};

/** `edge`: limits and the access log, for every listener. */
export const edgeSchema = z.strictObject({
  ...listenerLimits,
  reserved_fds: integer(64, 1_000_000).optional(),
  access_log: leaf<boolean>((v) =>
    typeof v === "boolean"
      ? { value: v }
      : { problem: `expected \`true\` or \`false\`, got ${describeValue(v)}` },
  ).optional(),
});

export const routeSchema = z.strictObject({
  listen: leaf<ListenInput>(parseListen),
  path: leaf<string>((v) => {
    if (typeof v !== "string" || !v.startsWith("/"))
      return { problem: `expected a path starting with \`/\`, got ${describeValue(v)}` };
    if (/[?#\s]/.test(v))
      return { problem: `a path prefix has no query, fragment or spaces, got ${describeValue(v)}` };
    return { value: v };
  }).optional(),
  host: leaf<string>((v) =>
    typeof v === "string" &&
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v)
      ? { value: v }
      : {
          problem: `expected a host name like \`shop.example.com\` or \`*.example.com\` (no port), got ${describeValue(v)}`,
        },
  ).optional(),
  to: text,
  balance: oneOf(["round-robin", "least-conn"]).optional(),
  prefer: oneOf(["local"]).optional(),
  hold: holdSchema.optional(),
  max_body: size.optional(),
  timeout: duration.optional(),
  ...listenerLimits,
});

/** `store`: `sqlite` or a `postgres://` URL. */
export const storeSchema = leaf<{ kind: "sqlite" } | { kind: "postgres"; url: string }>((v) => {
  if (v === "sqlite") return { value: { kind: "sqlite" } };
  if (typeof v === "string" && /^postgres(ql)?:\/\//.test(v) && URL.canParse(v)) {
    return { value: { kind: "postgres", url: v } };
  }
  return {
    problem: `expected \`sqlite\` or a URL like \`postgres://user@host:5432/db\`, got ${describeValue(v)}`,
  };
});

export const patchingSchema = z.strictObject({
  root: text,
  sync: oneOf(["patches", "delta", "clone"]).optional(),
  exclude: z.array(excludePattern).optional(),
  custom_sync: z.array(command).optional(),
  disk_margin: size.optional(),
  keep_sessions: integer(1).optional(),
});

/** `cluster.advertise`: an IP address or a host name other nodes resolve. */
const advertiseAddress = leaf<string>((v) =>
  typeof v === "string" && (isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(v))
    ? { value: v }
    : { problem: `expected an IP address or a host name like \`10.0.0.5\`, got ${describeValue(v)}` },
);

export const clusterSchema = z.strictObject({
  node: nodeName.optional(),
  advertise: advertiseAddress.optional(),
  heartbeat: duration.optional(),
  allowed_misses: integer(0).optional(),
  lease: duration.optional(),
  max_unavailable: integer(1).optional(),
  /** The declared members: `placement.nodes` lists must name them. */
  nodes: clusterNodesSchema.optional(),
});

/** `true` or `false`. */
const flag = leaf<boolean>((v) =>
  typeof v === "boolean"
    ? { value: v }
    : { problem: `expected \`true\` or \`false\`, got ${describeValue(v)}` },
);

/**
 * `control`: the remote API listener (design §8). Absent: the API answers on the Unix socket only.
 * Without `tls` only a loopback address is allowed, unless `insecure: true` (topology/control).
 */
export const controlSchema = z.strictObject({
  listen: leaf<ListenInput>(parseListen),
  tls: z.strictObject({ cert: text, key: text }).optional(),
  insecure: flag.optional(),
});

export const defaultsSchema = z.strictObject({
  stop: stopSchema.optional(),
  restart: restartSchema.optional(),
  drain: drainSchema.optional(),
  logs: logsSchema.optional(),
});

export const topologySchema = z.strictObject({
  name: text.optional(),
  home: text.optional(),
  store: storeSchema.optional(),
  defaults: defaultsSchema.optional(),
  components: z.record(z.string(), componentSchema).optional(),
  jobs: z.record(z.string(), jobSchema).optional(),
  routes: z.array(routeSchema).optional(),
  edge: edgeSchema.optional(),
  patching: patchingSchema.optional(),
  cluster: clusterSchema.optional(),
  control: controlSchema.optional(),
});

/** The validated, normalised (not yet defaulted) topology. */
export type TopologyInput = z.output<typeof topologySchema>;
export type ComponentInput = z.output<typeof componentSchema>;
export type JobInput = z.output<typeof jobSchema>;
export type RouteInput = z.output<typeof routeSchema>;
