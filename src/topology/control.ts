/**
 * @module topology/control
 * The `control` section (design §8): the remote API's listener. Its check refuses plain HTTP on an
 * address other than loopback unless `insecure: true` — tokens would cross the network in clear
 * text — and its compile applies the defaults (a bare port binds 127.0.0.1).
 */
import { isIP } from "node:net";
import { resolve } from "node:path";
import type { PathIssue } from "./locate.js";
import { parseListen, type TopologyInput } from "./schema.js";
import type { CompiledControl } from "./types.js";

/** Where a bare `listen: 7400` binds: never the network by accident. */
export const CONTROL_DEFAULT_ADDRESS = "127.0.0.1";

/** True for 127.0.0.0/8 and ::1 (also written as an IPv4-mapped address). */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return address === "::1" || address === "0:0:0:0:0:0:0:1";
}

/** Problems of `control` (raw, interpolated data) beyond its schema. */
export function controlChecks(control: unknown): PathIssue[] {
  if (control === null || typeof control !== "object" || Array.isArray(control)) return [];
  const c = control as Record<string, unknown>;
  const listen = parseListen(c.listen);
  if (!("value" in listen) || c.tls !== undefined || c.insecure === true) return [];
  const address = listen.value.address ?? CONTROL_DEFAULT_ADDRESS;
  if (isLoopback(address)) return [];
  return [
    {
      path: ["control", "listen"],
      message: `the remote API on ${address}:${listen.value.port} would carry tokens in clear text over the network: add \`tls: { cert, key }\`, listen on a loopback address like \`127.0.0.1:${listen.value.port}\`, or set \`insecure: true\` if something else encrypts the traffic`,
    },
  ];
}

/** `control` with its defaults applied; TLS paths resolved against `dir`. */
export function compileControl(c: NonNullable<TopologyInput["control"]>, dir: string): CompiledControl {
  return {
    address: c.listen.address ?? CONTROL_DEFAULT_ADDRESS,
    port: c.listen.port,
    ...(c.tls ? { tls: { certFile: resolve(dir, c.tls.cert), keyFile: resolve(dir, c.tls.key) } } : {}),
    insecure: c.insecure ?? false,
  };
}
