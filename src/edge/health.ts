/**
 * @module edge/health
 * Active health checks of one replica (design §5): a probe every `interval`, `fall` consecutive
 * failures take a routable replica out, `rise` consecutive passes bring it back. Detection time is
 * about interval × fall. The routing table starts a checker when a replica becomes ready, and also
 * after a passive ejection (a refused connection) so the replica can come back.
 */
import { createProbe, probeTcp, type Probe } from "../process/probes.js";
import { renderTemplate } from "../topology/render.js";
import type { HealthSpec, ProbeSpec } from "../topology/types.js";

/** The replica a probe checks. */
export interface ProbeTarget {
  component: string;
  index: number;
  host: string;
  port: number;
}

/**
 * Builds the probe of one replica from its component's health spec. The default handles `tcp` and
 * `http`; the daemon passes its own for `exec` (it knows the replica's cwd, env and log file).
 */
export type ProbeFactory = (spec: HealthSpec, target: ProbeTarget) => Probe;

/** Whether the default probe factory can run this spec. */
export function defaultFactorySupports(spec: ProbeSpec): boolean {
  return spec.kind === "tcp" || spec.kind === "http";
}

/**
 * The default probe factory: renders `${port}` and `${replica}` in a tcp or http spec and binds it
 * to the replica (an http path is resolved against `http://<host>:<port>`).
 * @throws RangeError for `exec` and `log` specs (the daemon supplies a factory for those).
 */
export const defaultProbeFactory: ProbeFactory = (spec, target) => {
  const vars = { port: target.port, replica: target.index, home: "" };
  if (spec.kind === "tcp") {
    const host = renderTemplate(spec.host, vars);
    return createProbe({ ...spec, host, port: renderTemplate(spec.port, vars) }, probeContext(target));
  }
  if (spec.kind === "http") {
    let url = renderTemplate(spec.url, vars);
    if (url.startsWith("/")) url = `http://${hostForUrl(target.host)}:${target.port}${url}`;
    return createProbe({ ...spec, url }, probeContext(target));
  }
  throw new RangeError(
    `${target.component}: ${spec.kind} health checks need the daemon's probe factory (RoutingTable option \`probe\`)`,
  );
};

/** The probe used to bring back a passively ejected replica of a component without health checks. */
export function connectProbe(target: ProbeTarget, timeoutMs: number): Probe {
  return (t) => probeTcp(target.host, target.port, t ?? timeoutMs);
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function probeContext(target: ProbeTarget) {
  return { cwd: process.cwd(), env: process.env, logFile: "/dev/null", logOffset: 0, port: target.port };
}

/**
 * Consecutive results of one replica's checks. A healthy replica turns unhealthy after `fall`
 * failures in a row; an unhealthy one turns healthy after `rise` passes in a row.
 * @example const c = new HealthCounter(2, 2); c.record(false); c.record(false) // true: changed to unhealthy
 */
export class HealthCounter {
  healthy = true;
  #streak = 0;

  constructor(
    readonly fall: number,
    readonly rise: number,
  ) {}

  /** Records one result; true when it changed `healthy`. */
  record(ok: boolean): boolean {
    if (ok === this.healthy) {
      this.#streak = 0;
      return false;
    }
    this.#streak += 1;
    if (this.#streak < (this.healthy ? this.fall : this.rise)) return false;
    this.healthy = ok;
    this.#streak = 0;
    return true;
  }

  /** Unhealthy now (a passive ejection): `rise` passes are needed to come back. */
  markDown(): void {
    this.healthy = false;
    this.#streak = 0;
  }

  /** Healthy now (the replica became ready again). */
  markUp(): void {
    this.healthy = true;
    this.#streak = 0;
  }

  /** Failures (while healthy) or passes (while unhealthy) in a row so far. */
  get streak(): number {
    return this.#streak;
  }
}

/** Called when the counter changes: `healthy` and the detail of the probe that decided it. */
export type HealthListener = (healthy: boolean, detail: string) => void;

/**
 * Runs `probe` every `intervalMs` (counted from the start of the previous attempt, never two at
 * once) and feeds `counter`. Timers are unref'd: a checker never keeps the process alive.
 */
export class HealthChecker {
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Bumped by every start, so an attempt of a previous run cannot schedule the next one. */
  #generation = 0;
  /** The last probe's detail, for status. */
  lastDetail: string | null = null;

  constructor(
    readonly probe: Probe,
    readonly intervalMs: number,
    readonly counter: HealthCounter,
    readonly onChange: HealthListener,
  ) {}

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#generation += 1;
    this.#schedule(this.intervalMs, this.#generation);
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number, generation: number): void {
    this.#timer = setTimeout(() => void this.#check(generation), Math.max(0, delayMs));
    this.#timer.unref();
  }

  async #check(generation: number): Promise<void> {
    const current = (): boolean => this.#running && generation === this.#generation;
    if (!current()) return;
    const started = Date.now();
    let ok: boolean;
    let detail: string;
    try {
      ({ ok, detail } = await this.probe());
    } catch (err) {
      ok = false;
      detail = (err as Error).message;
    }
    if (!current()) return;
    this.lastDetail = detail;
    if (this.counter.record(ok)) this.onChange(this.counter.healthy, detail);
    if (current()) this.#schedule(this.intervalMs - (Date.now() - started), generation);
  }
}
