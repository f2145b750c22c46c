/**
 * Real HTTP on loopback for the edge tests: upstream servers (node:http in this process), an edge
 * on a kernel-chosen port, and a client that records whole answers. Everything started here is
 * closed by `cleanup()` (call it in `afterEach`).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import { Edge, RoutingTable, type EdgeOptions, type RoutingTableOptions } from "../../src/edge/index.js";
import type { EdgeComponent } from "../../src/edge/routed-component.js";
import type { CompiledRoute, HealthSpec } from "../../src/topology/types.js";

const cleanups: (() => Promise<void> | void)[] = [];

export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch {
      // keep cleaning
    }
  }
}

export interface Upstream {
  port: number;
  server: http.Server;
  /** Requests received, in order. */
  seen: {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    rawHeaders: string[];
    body: string;
  }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A node:http upstream on 127.0.0.1 (a port of its own unless `port` is given). */
export async function upstream(handler: Handler = ok("hello"), port = 0): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      });
      handler(req, res, body);
    });
  });
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy(); // upgraded ones too
    await done;
  };
  cleanups.push(close);
  return { port: bound, server, seen, close };
}

/** A handler answering 200 with `text` (and the upstream's port in `x-upstream`). */
export function ok(text: string): Handler {
  return (req, res) => {
    const port = (req.socket.address() as net.AddressInfo).port;
    res.writeHead(200, { "content-type": "text/plain", "x-upstream": String(port) });
    res.end(text);
  };
}

export interface EdgeSetup {
  edge: Edge;
  table: RoutingTable;
  /** The port the edge listens on (its first listener). */
  port: number;
}

export interface RouteOptions extends Partial<CompiledRoute> {
  component?: string;
}

/** A compiled route with test defaults: port 0 (kernel's choice), 127.0.0.1, path `/`. */
export function route(opts: RouteOptions = {}): CompiledRoute {
  const { component, ...rest } = opts;
  return {
    listen: 0,
    address: "127.0.0.1",
    path: "/",
    to: component ?? "web",
    balance: "round-robin",
    maxBodyBytes: 10 * 1024 * 1024,
    timeoutMs: 60_000,
    ...rest,
  };
}

/** A component with its default offline code. */
export function component(name = "web", health?: HealthSpec): EdgeComponent {
  return { name, offlineCode: `${name.toUpperCase()}_OFFLINE`, ...(health ? { health } : {}) };
}

/** Starts an edge for `routes`; replicas are registered with `table.setReplica`. */
export async function startEdge(
  routes: CompiledRoute[] = [route()],
  components: EdgeComponent[] = [component()],
  tableOptions: RoutingTableOptions = {},
  edgeOptions: EdgeOptions = {},
): Promise<EdgeSetup> {
  const table = new RoutingTable(components, tableOptions);
  cleanups.push(() => table.close());
  const edge = await Edge.start(routes, components, table, edgeOptions);
  cleanups.push(async () => {
    await edge.close(200);
  });
  const port = edge.addresses[0]?.port ?? 0;
  return { edge, table, port };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  /** The parsed body when it is JSON. */
  json: { error?: { code: string; message: string; details: Record<string, unknown> } } | undefined;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  agent?: http.Agent | false;
}

/** One request to the edge; resolves with the whole answer. */
export function request(port: number, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: opts.method ?? "GET",
        path: opts.path ?? "/",
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString();
          let json: Reply["json"];
          try {
            json = JSON.parse(body) as Reply["json"];
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            json,
          });
        });
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

/** A port nothing listens on (bound, read, closed). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` is true, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 3_000, what = "condition"): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
  return Date.now() - started;
}

/** Registers a cleanup. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}
