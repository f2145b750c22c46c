/**
 * @module topology/schema
 * The topology file as written (design §2), as a strict zod schema: an unknown key is an error.
 * Leaf values are normalised on the way (durations to ms, sizes to bytes, `depends_on` to a list);
 * defaults are applied afterwards, once, by `compileTopology()`.
 */
import { Cron } from "croner";
import * as z from "zod";
import type { Dependency, DependencyCondition } from "./types.js";
import { backoff, command, httpTarget, pattern, restartLimit, signal, tcpTarget } from "./values-process.js";
import {
  describeValue,
  duration,
  envName,
  envValue,
  integer,
  leaf,
  oneOf,
  port,
  size,
  text,
} from "./values.js";

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
  during_maintenance: oneOf(["wait", "cancel"]).optional(),
  during_patching: oneOf(["run", "hold"]).optional(),
});

/** `hold`: `true` (10 s, 1000 queued), a duration, or `{ timeout, queue }`. */
export const holdSchema = z.union(
  [z.boolean(), duration, z.strictObject({ timeout: duration.optional(), queue: integer(1).optional() })],
  { error: "expected `true`, a duration like `10s`, or `{ timeout, queue }`" },
);

export const routeSchema = z.strictObject({
  listen: port,
  path: leaf<string>((v) =>
    typeof v === "string" && v.startsWith("/")
      ? { value: v }
      : { problem: `expected a path starting with \`/\`, got ${describeValue(v)}` },
  ).optional(),
  host: text.optional(),
  to: text,
  balance: oneOf(["round-robin", "least-conn"]).optional(),
  hold: holdSchema.optional(),
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
  exclude: z.array(text).optional(),
  custom_sync: z.array(command).optional(),
});

export const clusterSchema = z.strictObject({
  heartbeat: duration.optional(),
  allowed_misses: integer(0).optional(),
  lease: duration.optional(),
  max_unavailable: integer(1).optional(),
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
  patching: patchingSchema.optional(),
  cluster: clusterSchema.optional(),
});

/** The validated, normalised (not yet defaulted) topology. */
export type TopologyInput = z.output<typeof topologySchema>;
export type ComponentInput = z.output<typeof componentSchema>;
export type JobInput = z.output<typeof jobSchema>;
export type RouteInput = z.output<typeof routeSchema>;
