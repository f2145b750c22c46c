/**
 * @module edge/access-record
 * One access log line in the making. With the access log on, the listener puts an `AccessRecord`
 * between an exchange and its client side: it is the exchange's host (told when it is done) and its
 * downstream (sees the status, the replica and the bytes of the response), forwarding everything.
 *
 * A line: `{"time","listen","route","method","path","status","replica","code","in","out","ms","client"}`
 * — `status` is what the client received (null when nothing was sent), `replica` is
 * `component/index` when a replica answered, `code` the edge's own answer code (`NO_ROUTE`,
 * `NO_HEALTHY_REPLICA`, …), or `CLIENT_CLOSED` (the client left before the response was complete),
 * or `RESPONSE_CUT` (the response could not be completed); `in` and `out` are body bytes.
 */
import type { Answer } from "./answers.js";
import type { AccessLog } from "./access-log.js";
import type { Downstream, DownstreamClient } from "./downstream/downstream.js";
import type { Exchange, ExchangeHost } from "./exchange.js";
import type { RoutingTable } from "./routing-table.js";

/** What the record needs from its listener. */
export interface RecordHost extends ExchangeHost {
  /** `address:port`, for the `listen` field. */
  readonly listenLabel: string;
}

let isoText = "";
let isoMs = 0;
/** The ISO time of `ms`, formatted at most once per millisecond. */
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** Fields of one line, in order. */
export interface AccessLine {
  listen: string;
  route: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  replica: string | null;
  code: string | null;
  in: number;
  out: number;
  ms: number;
  client: string | null;
}

/** Printable ASCII without `"` and `\`: written as is; anything else goes through JSON.stringify. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string (or null), without JSON.stringify's cost for the usual plain value. */
function str(s: string | null): string {
  return s === null ? "null" : PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Formats a line; strings that come from the client are escaped. */
export function accessLine(at: number, l: AccessLine): string {
  return (
    `{"time":"${isoTime(at)}","listen":${str(l.listen)},"route":${str(l.route)},"method":${str(l.method)},` +
    `"path":${str(l.path)},"status":${l.status},"replica":${str(l.replica)},"code":${str(l.code)},` +
    `"in":${l.in},"out":${l.out},"ms":${l.ms},"client":${str(l.client)}}`
  );
}

export class AccessRecord implements ExchangeHost, Downstream {
  readonly start = Date.now();
  exchange: Exchange | null = null;
  status: number | null = null;
  replica: string | null = null;
  code: string | null = null;
  out = 0;
  complete = false;

  constructor(
    readonly host: RecordHost,
    readonly down: Downstream,
    readonly log: AccessLog,
    readonly route: string,
  ) {}

  // ExchangeHost
  get table(): RoutingTable {
    return this.host.table;
  }

  get closing(): boolean {
    return this.host.closing;
  }

  exchangeDone(): void {
    this.host.exchangeDone();
    const now = Date.now();
    const ex = this.exchange;
    const d = this.down;
    const code =
      this.code ?? (this.complete ? null : this.status === null ? "CLIENT_CLOSED" : "RESPONSE_CUT");
    this.log.write(
      accessLine(now, {
        listen: this.host.listenLabel,
        route: this.route,
        method: d.method,
        path: d.url,
        status: this.status,
        replica: this.replica,
        code,
        in: ex?.bodyBytes ?? 0,
        out: this.out,
        ms: now - this.start,
        client: d.remoteAddress ?? null,
      }),
    );
  }

  /** The request timed out on the client's side (the connection answered `408` itself). */
  timedOut(code: string): void {
    this.status = 408;
    this.code = code;
  }

  // Downstream: forwarded.
  get method(): string {
    return this.down.method;
  }
  get url(): string {
    return this.down.url;
  }
  get rawHeaders(): readonly string[] {
    return this.down.rawHeaders;
  }
  get remoteAddress(): string | undefined {
    return this.down.remoteAddress;
  }
  get requestComplete(): boolean {
    return this.down.requestComplete;
  }
  get gone(): boolean {
    return this.down.gone;
  }
  startBody(): void {
    this.down.startBody();
  }
  pauseBody(): void {
    this.down.pauseBody();
  }
  resumeBody(): void {
    this.down.resumeBody();
  }

  writeHead(status: number, reason: string, headers: string[]): void {
    this.down.writeHead(status, reason, headers);
    this.status = status;
    const r = this.exchange?.replica;
    if (r) this.replica = `${r.component}/${r.index}`;
  }

  write(chunk: Buffer): boolean {
    this.out += chunk.length;
    return this.down.write(chunk);
  }

  end(chunk: Buffer | null): void {
    if (chunk !== null) this.out += chunk.length;
    this.down.end(chunk);
    this.complete = true;
  }

  answer(a: Answer): void {
    this.down.answer(a);
    this.status = a.status;
    this.code = a.code;
    this.complete = true;
    const d = a.details;
    if (typeof d.replica === "number" && typeof d.component === "string")
      this.replica = `${d.component}/${d.replica}`;
  }

  destroy(): void {
    this.down.destroy();
  }
}

/** The client side's `client` field is the exchange; this finds the record behind it, if any. */
export function recordOf(client: DownstreamClient | null): AccessRecord | null {
  const host = (client as Exchange | null)?.host;
  return host instanceof AccessRecord ? host : null;
}
