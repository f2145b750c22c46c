/**
 * @module process/ports
 * Loopback TCP ports for replicas: allocate a free one for `${port}`, and check that a port a
 * replica needs is free before spawning, so the replica fails early with "port 7001 is already in
 * use by pid 1234 (python3 -m http.server)" instead of crashing on EADDRINUSE.
 */
import net from "node:net";
import { PortInUseError } from "./errors.js";
import { listeningInodes, portHolder } from "./proc.js";

/** Ports handed out recently, not handed out again until they fall out of this window. */
const recent: number[] = [];
const RECENT_MAX = 256;

function listenOnce(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port on `host`: binds port 0, reads the port the kernel chose, closes. A port given
 * out in the last 256 calls is not given again, so replicas allocated in a row do not collide
 * before they bind.
 *
 * @param host @default "127.0.0.1"
 * @example const port = await allocatePort(); // 41237
 */
export async function allocatePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await listenOnce(0, host);
    if (!recent.includes(port) || attempt >= 20) {
      recent.push(port);
      if (recent.length > RECENT_MAX) recent.shift();
      return port;
    }
  }
}

/**
 * True when something listens on TCP `port` (on any address, seen in `/proc/net/tcp{,6}`) or the
 * port cannot be bound on `host`.
 * @param host @default "127.0.0.1"
 */
export async function isPortInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  if (listeningInodes(port).length > 0) return true;
  try {
    await listenOnce(port, host);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EADDRINUSE";
  }
}

/**
 * Throws `PortInUseError` ("port 7001 is already in use by pid 1234 (python3 -m http.server)")
 * when `port` is taken; the holder is named when `/proc` shows it.
 * @param host @default "127.0.0.1"
 */
export async function assertPortFree(port: number, host = "127.0.0.1"): Promise<void> {
  if (await isPortInUse(port, host)) throw new PortInUseError(port, portHolder(port));
}
