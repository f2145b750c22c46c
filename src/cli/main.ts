/**
 * @module cli/main
 * The `steward` command. Every command but `validate`, `logs` and `daemon` talks to the daemon of
 * the topology's home over `<home>/steward.sock`. Exit codes: 0 done, 1 the operation failed,
 * 2 bad input (topology, usage).
 */
import { Command, CommanderError } from "commander";
import { resolve } from "node:path";
import { BadRequestError, StewardError } from "../errors.js";
import type { StatusDocument } from "../daemon/status.js";
import { formatMs } from "../process/duration.js";
import { compileKey, writeCompiled } from "../topology/compiled-cache.js";
import { topologyDigest } from "../topology/digest.js";
import { locateHome } from "../topology/locate-home.js";
import type { CompiledTopology } from "../topology/types.js";
import { call, stream } from "./client.js";
import { ensureDaemon } from "./ensure-daemon.js";
import { crashedDaemon, runningDaemon, whileRecovering } from "./recovery.js";
import { isAlive } from "../process/proc.js";
import { restartDaemon } from "./daemon-restart.js";
import { renderJobs, runJob } from "./jobs.js";
import type { JobStatus } from "../api/jobs.js";
import type { VerifyReport } from "../daemon/verify.js";
import { showLogs } from "./logs.js";
import { ProgressPrinter, renderStatus } from "./render.js";
import { registerPatch } from "./patch.js";
import { registerCluster } from "./cluster.js";
import { registerTokens } from "./tokens.js";
import { durationOption, MAX_LOG_LINES, wholeOption } from "./options.js";

const out = (line: string): void => void process.stdout.write(`${line}\n`);

const program = new Command("steward")
  .description("Steward: start, stop and supervise a multi-process application without losing work")
  .option("-f, --file <path>", "topology file (default: $STEWARD_FILE or ./steward.yaml)")
  .enablePositionalOptions()
  .showSuggestionAfterError()
  .exitOverride();

/** The topology file: the subcommand's -f, else the global one, else $STEWARD_FILE, else ./steward.yaml. */
function topologyFile(cmd: Command): string {
  const own = cmd.opts<{ file?: string }>().file;
  return resolve(own ?? program.opts<{ file?: string }>().file ?? process.env.STEWARD_FILE ?? "steward.yaml");
}

/** The full, validated topology (loads the schema: only for commands that need it). */
async function topologyOf(cmd: Command): Promise<CompiledTopology> {
  const { loadTopology } = await import("../topology/index.js");
  return loadTopology(topologyFile(cmd));
}

/** Where the daemon of this topology listens: `home` alone, cheaply, for commands that only talk to it. */
async function homeOf(cmd: Command): Promise<{ file: string; home: string }> {
  return locateHome(topologyFile(cmd)) ?? (await topologyOf(cmd));
}

function socketOf(t: { home: string }): string {
  return resolve(t.home, "steward.sock");
}

function sub(name: string, description: string): Command {
  return program.command(name).description(description).option("-f, --file <path>", "topology file");
}

sub("validate", "check the topology file and print what it declares")
  .option("--json", "print the compiled topology (every default filled in) or the error, as JSON")
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    if (opts.json) {
      try {
        out(JSON.stringify({ topology: await topologyOf(cmd) }));
      } catch (err) {
        if (!(err instanceof StewardError)) throw err;
        out(JSON.stringify(err.toJSON()));
        process.exitCode = 2;
      }
      return;
    }
    const t = await topologyOf(cmd);
    const replicas = t.components.reduce((n, c) => n + c.replicas, 0);
    out(
      `${t.file} is valid: ${t.components.length} components (${replicas} replicas), ${t.jobs.length} jobs, ${t.routes.length} routes; home ${t.home}`,
    );
    // Valid but likely not meant (e.g. an under-placed `nodes: any`): on stderr, exit 0.
    for (const w of t.warnings ?? [])
      process.stderr.write(
        `steward: warning: ${w.file}:${w.line}:${w.column}: \`${w.path}\`: ${w.message}\n`,
      );
  });

sub(
  "daemon",
  "run the daemon in the foreground; `daemon restart`: replace it without stopping the application",
)
  .argument("[action]", "`restart`: the running daemon exits, a new one takes every replica over")
  .action(async (action: string | undefined, _o, cmd: Command) => {
    if (action === "restart") return restartDaemon(await homeOf(cmd), out);
    if (action !== undefined)
      throw new BadRequestError(`unknown daemon action \`${action}\`; expected \`restart\` or nothing`);
    const { Daemon } = await import("../daemon/daemon.js");
    const daemon = await Daemon.boot(topologyFile(cmd));
    daemon.handleSignals();
    await daemon.exited;
    process.exit(0);
  });

/** A daemon that exited 0 at start-up, or went away while answering: what finishing a resumed `down` looks like. */
function finishedDown(err: unknown): boolean {
  if (!(err instanceof StewardError)) return false;
  return (err.code === "STW-1011" && err.details.exitCode === 0) || err.code === "STW-1007";
}

/** Run an operation on the daemon, printing its progress; exit 1 when it failed. */
async function operation(
  t: { home: string; file: string },
  op: string,
  components: string[],
  verb: string,
  extra: { wait?: number; cancel?: boolean } = {},
): Promise<void> {
  const started = Date.now();
  const printer = new ProgressPrinter(out);
  const body = { components, topologyDigest: topologyDigest(t.file), ...extra };
  const send = (): Promise<void> => stream(socketOf(t), `/v1/${op}`, body, printer.onLine);
  let resumedDown = false;
  await whileRecovering(async () => {
    try {
      await send();
    } catch (err) {
      const crashed =
        err instanceof StewardError && err.code === "STW-1007" ? crashedDaemon(t.home) : undefined;
      if (crashed === undefined) throw err;
      out(
        `the daemon (pid ${crashed}) ended without an orderly shutdown; starting a new one to take the application over`,
      );
      try {
        const { pid } = await ensureDaemon(socketOf(t), t.home, t.file);
        out(`daemon started (pid ${pid}); log: ${resolve(t.home, "logs", "daemon.log")}`);
        await send();
      } catch (again) {
        // The crashed daemon was in the middle of `down`: the new one finished it and exited.
        if (op === "down" && finishedDown(again)) {
          out("the new daemon finished the interrupted `down` and exited");
          resumedDown = true;
          return;
        }
        throw again;
      }
    }
  }, out);
  if (resumedDown) return;
  if (printer.error) throw new StewardError("STW-1009", printer.error);
  const result = printer.result;
  if (!result) throw new StewardError("STW-1009", `${op}: the daemon closed the stream without a result`);
  const took = formatMs(Date.now() - started);
  const name = result.application;
  if (result.superseded)
    out(
      `${name}: this \`${op.replace("/", " ")}\` did not run: superseded by \`${result.superseded.operation}\` (${result.superseded.by}), asked later; its outcome:`,
    );
  if (result.ok) {
    out(
      `${name}: ${result.components.length} component${result.components.length === 1 ? "" : "s"} ${verb} in ${took}`,
    );
    return;
  }
  for (const c of result.components.filter((c) => !c.ok)) out(`✗ ${c.name}: ${c.error}`);
  out(`${name}: ${op} failed after ${took} — see \`steward status\` and \`steward logs <component>\``);
  process.exitCode = 1;
}

sub("up", "start the daemon if needed, then start every component in dependency order")
  .option(
    "--node <name>",
    "in a cluster: this node's name (sets STEWARD_NODE; default cluster.node, else the hostname)",
  )
  .action(async (opts: { node?: string }, cmd: Command) => {
    if (opts.node !== undefined) process.env.STEWARD_NODE = opts.node; // the daemon inherits it
    // `up` validates the file even when a daemon runs: an edit with a typo is reported, not ignored.
    const t = await topologyOf(cmd);
    writeCompiled(t, compileKey(t.file)); // the daemon it may start reads this instead of compiling again
    const { started, pid } = await ensureDaemon(socketOf(t), t.home, t.file);
    if (started) out(`daemon started (pid ${pid}); log: ${resolve(t.home, "logs", "daemon.log")}`);
    await operation(t, "up", [], "ready");
  });

for (const [name, verb, description] of [
  ["start", "ready", "start components (and what they depend on); none named = all"],
  ["stop", "stopped", "stop components (and what depends on them) through the stop budget; none named = all"],
  ["restart", "ready", "stop then start components with their dependants; none named = all"],
] as const) {
  sub(name, description)
    .argument("[component...]", "component names")
    .option("--cluster", "on every node of the cluster, driven by the primary (docs/cluster.md)")
    .action(async (components: string[], opts: { cluster?: boolean }, cmd: Command) => {
      if (opts.cluster) {
        const t = await topologyOf(cmd);
        const { refuseClusterFlag } = await import("./cluster-flag.js");
        if (t.cluster === undefined) refuseClusterFlag(name, t);
        const { clusterOperation } = await import("./cluster-operation.js");
        return clusterOperation(t, name, components, out);
      }
      return operation(await homeOf(cmd), name, components, verb);
    });
}

sub("down", "stop everything in reverse dependency order, then the daemon exits").action((_o, cmd: Command) =>
  down(cmd),
);

/** `steward down` (and `steward cluster leave --drain`). */
async function down(cmd: Command): Promise<void> {
  const t = await homeOf(cmd);
  const before = runningDaemon(t.home);
  await operation(t, "down", [], "stopped");
  // "daemon stopped" is printed once it is true: the daemon exits just after its last answer.
  const pid = runningDaemon(t.home) ?? before;
  const deadline = Date.now() + 10_000;
  while (pid !== undefined && isAlive(pid) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  out("daemon stopped");
}

sub("run", "run a job now and print its output; exits 0 when it succeeded")
  .argument("<job>", "job name")
  .option("--detach", "return once the run has started")
  .action(async (job: string, opts: { detach?: boolean }, cmd: Command) => {
    const t = await homeOf(cmd);
    const write = (text: string): void => void process.stdout.write(text);
    if (!(await runJob(socketOf(t), job, { detach: opts.detach ?? false }, out, write))) process.exitCode = 1;
  });

sub("jobs", "list jobs: schedule, next run, runs in progress, last run")
  .option("--json", "print the jobs document as JSON")
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const t = await homeOf(cmd);
    const { jobs } = await call<{ jobs: JobStatus[] }>(socketOf(t), "GET", "/v1/jobs");
    out(opts.json ? JSON.stringify({ jobs }, null, 2) : renderJobs(jobs));
  });

const maintenance = program
  .command("maintenance")
  .description("take components offline for maintenance, and bring them back exactly as they were");
maintenance
  .command("on")
  .description(
    "pause job schedules, wait for (or cancel) running jobs, take components (default: all) offline in reverse order",
  )
  .argument("[component...]", "component names (their dependants go offline too)")
  .option("-f, --file <path>", "topology file")
  .option("--wait <duration>", "wait at most this long for running jobs (e.g. 5m), then cancel them")
  .option("--cancel", "cancel running jobs at once")
  .action(async (components: string[], opts: { wait?: string; cancel?: boolean }, cmd: Command) => {
    if (opts.wait !== undefined && opts.cancel)
      throw new BadRequestError("give --wait or --cancel, not both");
    const wait = opts.wait === undefined ? undefined : durationOption("--wait", opts.wait);
    await operation(await homeOf(cmd), "maintenance/on", components, "offline", {
      ...(wait !== undefined ? { wait } : {}),
      ...(opts.cancel ? { cancel: true } : {}),
    });
  });
maintenance
  .command("off")
  .description("start what maintenance took offline, in order, and resume exactly the schedules it paused")
  .option("-f, --file <path>", "topology file")
  .action(async (_o, cmd: Command) => operation(await homeOf(cmd), "maintenance/off", [], "back"));

registerPatch(program, { out, homeOf, topologyOf });
registerCluster(program, { out, homeOf, down });
registerTokens(program, { out, homeOf });

sub("verify", "check that what should run runs and what should be stopped or offline is; exit 1 otherwise")
  .option("--json", "print the report as JSON")
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const t = await homeOf(cmd);
    const report = await call<VerifyReport>(socketOf(t), "GET", "/v1/verify");
    if (opts.json) out(JSON.stringify(report, null, 2));
    else if (report.ok)
      out(
        `ok: ${report.checked} replica(s) as they should be${report.maintenance ? ` (in maintenance: ${report.maintenance.join(", ")} offline)` : ""}`,
      );
    else {
      for (const d of report.differences)
        out(
          `✗ ${d.index === null ? d.component : `${d.component}[${d.index}]`}: expected ${d.expected}, found ${d.actual}`,
        );
      out(`${report.differences.length} difference(s)`);
    }
    if (!report.ok) process.exitCode = 1;
  });

sub("status", "show the daemon, components and replicas")
  .option("--json", "print the status document as JSON")
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const t = await homeOf(cmd);
    const status = await call<StatusDocument>(socketOf(t), "GET", "/v1/status").catch((err: unknown) => {
      const crashed =
        err instanceof StewardError && err.code === "STW-1007" ? crashedDaemon(t.home) : undefined;
      if (crashed === undefined) throw err;
      throw new StewardError(
        "STW-1007",
        `no daemon answers on ${socketOf(t)}: the last one (pid ${crashed}) ended without an orderly shutdown, ` +
          "and its replicas may still be running unsupervised; `steward up` starts a daemon that takes them over",
      );
    });
    out(opts.json ? JSON.stringify(status, null, 2) : renderStatus(status));
  });

program
  .command("logs")
  .description("print a component's replica logs")
  .argument("<component>", "component name")
  .option("--file <path>", "topology file")
  .option("-f, --follow", "keep printing as the logs grow")
  .option("-n, --lines <n>", "lines of history per replica", "50")
  .option("--replica <index>", "only this replica")
  .action(
    async (component: string, opts: { follow?: boolean; lines: string; replica?: string }, cmd: Command) => {
      const t = await topologyOf(cmd);
      const spec = t.components.find((c) => c.name === component);
      if (!spec) {
        const { UnknownComponentError } = await import("../errors.js");
        const { nearest } = await import("../topology/suggest.js");
        const known = t.components.map((c) => c.name);
        throw new UnknownComponentError(component, known, nearest(component, known));
      }
      const lines = wholeOption("-n", opts.lines, { min: 0, max: MAX_LOG_LINES });
      const replica =
        opts.replica === undefined
          ? undefined
          : wholeOption("--replica", opts.replica, {
              min: 0,
              max: spec.replicas - 1,
              what: `a replica index of ${component}`,
            });
      await showLogs(t.home, spec, { follow: opts.follow ?? false, lines, replica }, (text) =>
        process.stdout.write(text),
      );
    },
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof StewardError) {
    process.stderr.write(`steward: ${err.message}\n`);
    // Bad input — a refused request (400, 404), or a usage error raised here (STW-1006) — exits 2.
    process.exitCode = err.httpStatus === 400 || err.httpStatus === 404 || err.code === "STW-1006" ? 2 : 1;
  } else {
    process.stderr.write(`steward: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
