/**
 * @module edge/tunnel
 * Upgrade requests (WebSocket, design §5): the edge picks a replica like for any request and sends
 * it the handshake with `Connection: Upgrade` and `Upgrade` kept (other hop-by-hop fields removed,
 * X-Forwarded-* added). Only a `101 Switching Protocols` naming a protocol the client offered makes
 * the connection a tunnel (bytes copied both ways until either side closes); any other answer is
 * passed on as an ordinary response and both connections close (`tunnel-handshake`). The client's
 * bytes after its head wait for the 101, and are dropped without it.
 *
 * Refused with `400`: what `buildRequestHead` refuses, and an upgrade request with a body (the body
 * would have to be forwarded before knowing whether the replica switches). A refused connection
 * ejects the replica and tries another (nothing was sent); an offline component or no routable
 * replica is answered at once (upgrades are not held). Open tunnels are counted per replica; a
 * drain does not wait for them — they end when the replica stops.
 */
import type { IncomingMessage } from "node:http";
import net from "node:net";
import { ANSWER, answerSocket } from "./answers.js";
import { buildRequestHead, Framing, type BodyInfo } from "./headers.js";
import { Handshake } from "./tunnel-handshake.js";
import { MAX_ATTEMPTS } from "./exchange.js";
import type { EdgeRoute } from "./route.js";
import type { RoutedReplica } from "./routed-replica.js";
import type { RoutingTable } from "./routing-table.js";

export interface TunnelHost {
  readonly table: RoutingTable;
  /** Client sockets of upgrade requests (connecting or tunnelling), destroyed when the edge closes. */
  readonly tunnels: Set<net.Socket>;
}

/** Handles the `upgrade` event of the listener's server for `route`. */
export function openTunnel(
  host: TunnelHost,
  route: EdgeRoute,
  req: IncomingMessage,
  client: net.Socket,
  head: Buffer,
): void {
  const info: BodyInfo = { refusal: null, framing: Framing.None, contentLength: -1, hostMissing: false };
  const requestHead = buildRequestHead(
    req.method ?? "GET",
    req.url ?? "/",
    req.rawHeaders,
    req.socket.remoteAddress,
    true,
    info,
  );
  client.on("error", () => client.destroy());
  host.tunnels.add(client);
  client.once("close", () => host.tunnels.delete(client));
  const refusal =
    info.refusal ?? (info.framing === Framing.None ? null : "an upgrade request cannot carry a body");
  if (refusal !== null) {
    answerSocket(client, {
      status: 400,
      code: ANSWER.badRequest,
      message: `request refused: ${refusal}`,
      details: { route: route.label },
    });
    return;
  }
  // The client's bytes after its head are for the new protocol: they wait for the replica's 101.
  client.pause();
  let attempts = 0;

  const tryReplica = (): void => {
    const c = route.component;
    if (c.offline !== null) {
      answerSocket(client, {
        status: 503,
        code: c.offline.code,
        message: `${c.name} is offline; try again later`,
        details: { component: c.name, route: route.label },
        retryAfterS: c.offline.retryAfterS,
      });
      return;
    }
    const r = route.balancer.pick(c.routable);
    if (r === undefined) {
      answerSocket(client, {
        status: 503,
        code: ANSWER.noHealthyReplica,
        message: `no healthy replica of ${c.name} (${c.replicas.size} registered, none routable)`,
        details: { component: c.name, route: route.label, replicas: c.replicas.size },
        retryAfterS: c.noHealthyRetryAfterS,
      });
      return;
    }
    attempts += 1;
    connect(r);
  };

  const connect = (r: RoutedReplica): void => {
    const upstream = net.connect({ host: r.host, port: r.port, noDelay: true });
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      client.once("close", () => upstream.destroy());
      upstream.write(info.hostMissing ? `${requestHead}Host: ${r.hostPort}\r\n\r\n` : requestHead, "latin1");
      const where = {
        component: r.component,
        replica: r.index,
        route: route.label,
        label: `${r.component}[${r.index}] (${r.hostPort})`,
      };
      const handshake = new Handshake(
        {
          where,
          timeoutMs: route.spec.timeoutMs,
          onSwitched: () => {
            r.tunnels += 1;
            // A tunnel lives while both sides do: the first side to close (or half-close) closes the other.
            client.allowHalfOpen = false;
            upstream.once("close", () => {
              r.tunnels -= 1;
              client.destroy();
            });
            if (head.length > 0) upstream.write(head);
            client.setNoDelay(true);
            upstream.pipe(client);
            client.pipe(upstream);
          },
        },
        client,
        upstream,
        req.method === "HEAD",
        upgradeOf(req),
      );
      upstream.once("close", () => handshake.fail("the replica closed the connection before responding"));
    });
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      if (connected) {
        upstream.destroy();
        return;
      }
      host.table.eject(
        r,
        err.code === "ECONNREFUSED" ? "connection refused" : `connection failed: ${err.message}`,
      );
      if (attempts < MAX_ATTEMPTS && !client.destroyed) {
        tryReplica();
        return;
      }
      answerSocket(client, {
        status: 502,
        code: ANSWER.upstreamFailed,
        message: `${r.component}[${r.index}] (${r.hostPort}) refused the upgrade connection: ${err.message}`,
        details: { component: r.component, replica: r.index, route: route.label, attempts },
      });
    });
  };

  tryReplica();
}

/** The request's Upgrade field (node calls `upgrade` only when there is one). */
function upgradeOf(req: IncomingMessage): string {
  const v = req.headers.upgrade;
  return typeof v === "string" ? v : "";
}
