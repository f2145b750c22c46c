/**
 * Runs fuzz cases through the real edge: a listener on 127.0.0.1 in front of a recording replica
 * (node:http, so llhttp frames what the edge sends), and the same bytes sent straight to a second
 * recorder (llhttp's reading of the original). Each case returns its problems (none: it passed).
 */
import fc from "fast-check";
import type { RoutingTable } from "../../../src/edge/index.js";
import { onCleanup, route, startEdge } from "../helpers.js";
import { judgeRequests } from "./oracle.js";
import { fuzzRequests } from "./requests.js";
import { fuzzResponses, judgeResponses, responseCase, ScriptedReplica, type Via } from "./responses.js";
import { Recorder, send } from "./wire.js";

export interface Finding {
  direction: "request" | "response";
  /** The case's bytes, as a JS string literal (latin1). */
  payload: string;
  problems: string[];
  /** The start of what the client received from the edge. */
  answer: string;
}

export interface Bench {
  edgePort: number;
  table: RoutingTable;
  replica: Recorder;
  reference: Recorder;
  scripted: ScriptedReplica;
  /** The edge port whose route (Host `scripted.test`) goes to the scripted replica. */
  scriptedPort: number;
}

const WAIT = { quietMs: 40, maxMs: 2_000 };

/** Starts the edge, the recording replica, the reference and the scripted replica (closed by `cleanup()`). */
export async function startBench(): Promise<Bench> {
  const replica = new Recorder();
  const reference = new Recorder();
  const scripted = new ScriptedReplica();
  await Promise.all([replica.listen(), reference.listen(), scripted.listen()]);
  onCleanup(() => Promise.all([replica.close(), reference.close(), scripted.close()]).then(() => undefined));
  const { table, edge } = await startEdge(
    [route({ timeoutMs: 1_000 }), route({ timeoutMs: 1_000, host: "scripted.test", component: "scripted" })],
    [
      { name: "web", offlineCode: "WEB_OFFLINE" },
      { name: "scripted", offlineCode: "SCRIPTED_OFFLINE" },
    ],
  );
  table.setReplica("web", 0, { port: replica.port, ready: true });
  table.setReplica("scripted", 0, { port: scripted.port, ready: true });
  const port = edge.addresses[0]?.port ?? 0;
  return {
    edgePort: port,
    scriptedPort: port,
    table,
    replica,
    reference,
    scripted,
  };
}

/** Puts a replica a hostile case got ejected back into routing. */
function restore(b: Bench, component: string, port: number): void {
  const r = b.table.replica(component, 0);
  if (r !== undefined && r.state !== "in") {
    b.table.setReplica(component, 0, { port, ready: false });
    b.table.setReplica(component, 0, { port, ready: true });
  }
}

/** One request case: refused by the edge, or forwarded as llhttp framed it. */
export async function requestCase(b: Bench, bytes: Buffer): Promise<Finding | null> {
  const { problems, answer } = await requestRun(b, bytes);
  if (problems.length === 0) return null;
  return {
    direction: "request",
    payload: literal(bytes),
    problems,
    answer: answer.toString("latin1").slice(0, 400),
  };
}

/** Runs one request case: its problems, and what the client received. */
export async function requestRun(
  b: Bench,
  bytes: Buffer,
  quietMs = WAIT.quietMs,
): Promise<{ problems: string[]; answer: Buffer }> {
  const wait = { ...WAIT, quietMs };
  b.reference.clear();
  await send(b.reference.port, bytes, { ...wait, activity: () => b.reference.lastActivity });
  const reference = [...b.reference.seen];
  b.replica.clear();
  const got = await send(b.edgePort, bytes, { ...wait, activity: () => b.replica.lastActivity });
  const problems = judgeRequests(reference, [...b.replica.seen], [...b.replica.errors]);
  restore(b, "web", b.replica.port);
  return { problems, answer: got.bytes };
}

/** One response case: the client gets a 502 (or a closed connection), or what llhttp reads in the replica's bytes. */
export async function responseCaseRun(
  b: Bench,
  bytes: Buffer,
  closeAfter: boolean,
  via: Via = "fast",
): Promise<Finding | null> {
  const outcome = await responseCase(b.scripted, b.scriptedPort, bytes, closeAfter, via);
  restore(b, "scripted", b.scripted.port);
  const problems = judgeResponses(outcome);
  if (problems.length === 0) return null;
  return {
    direction: "response",
    payload: literal(bytes),
    problems: via === "node" ? problems.map((p) => `(node path) ${p}`) : problems,
    answer: JSON.stringify(outcome.edge).slice(0, 400),
  };
}

/** A JS string literal of `bytes` (latin1), to paste into a corpus entry. */
export function literal(bytes: Buffer): string {
  return JSON.stringify(bytes.toString("latin1"));
}

export interface FuzzReport {
  seed: number;
  requests: number;
  responses: number;
  findings: Finding[];
}

/** Runs `runs` request cases and `runs` response cases from `seed`. */
export async function fuzz(
  b: Bench,
  seed: number,
  runs: number,
  log?: (line: string) => void,
): Promise<FuzzReport> {
  const findings: Finding[] = [];
  const requests = fc.sample(fuzzRequests, { seed, numRuns: runs });
  for (const [i, r] of requests.entries()) {
    const f = await requestCase(b, r.bytes);
    if (f) findings.push(f);
    if (log && (i + 1) % 100 === 0) log(`requests: ${i + 1}/${runs}, findings ${findings.length}`);
  }
  const responses = fc.sample(fuzzResponses, { seed, numRuns: runs });
  for (const [i, r] of responses.entries()) {
    // Every other case through node's HTTP server: both client sides pass on what the replica says.
    const f = await responseCaseRun(b, r.bytes, r.closeAfter, i % 2 === 1 ? "node" : "fast");
    if (f) findings.push(f);
    if (log && (i + 1) % 100 === 0) log(`responses: ${i + 1}/${runs}, findings ${findings.length}`);
  }
  return { seed, requests: requests.length, responses: responses.length, findings };
}
