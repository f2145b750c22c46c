/**
 * @module edge/errors
 * Errors of starting the edge. (Errors of a request are answers, see `answers.ts`.)
 */
import { StewardError } from "../errors.js";
import { portHolder, type PortHolder } from "../process/proc.js";

/**
 * The edge cannot listen on a route's port: in use (naming the program holding it, when `/proc`
 * tells), a privileged port without the capability, or an address this machine does not have.
 */
export class EdgeListenError extends StewardError {
  readonly port: number;
  readonly address: string;
  readonly holder: PortHolder | undefined;

  constructor(address: string, port: number, routes: string, cause: NodeJS.ErrnoException) {
    const holder = cause.code === "EADDRINUSE" ? portHolder(port) : undefined;
    let why: string;
    if (cause.code === "EADDRINUSE") {
      why = `port ${port} is already in use${holder ? ` by pid ${holder.pid} (${holder.command})` : ""}`;
    } else if (cause.code === "EACCES") {
      why = `permission denied: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability`;
    } else if (cause.code === "EADDRNOTAVAIL") {
      why = `${address} is not an address of this machine`;
    } else {
      why = cause.message;
    }
    super("STW-4001", `edge: cannot listen on ${address}:${port} (${routes}): ${why}`, {
      httpStatus: 500,
      details: { address, port, errno: cause.code ?? null, holder: holder ?? null },
      cause,
    });
    this.port = port;
    this.address = address;
    this.holder = holder;
  }
}

/** A route goes to a component the edge was not given. */
export class UnknownRouteTargetError extends StewardError {
  constructor(route: string, component: string) {
    super("STW-4002", `edge: ${route} goes to \`${component}\`, which is not a component`, {
      httpStatus: 500,
      details: { route, component },
    });
  }
}
