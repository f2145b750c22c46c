/**
 * A TCP relay in front of PostgreSQL for one node: it listens on a loopback address of its own
 * (127.0.0.x) and forwards to 127.0.0.1:5432, so a test can cut that node off the store — every
 * open connection destroyed, new ones refused — and restore it.
 */
import net from "node:net";

export class Relay {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #cut = false;
  host = "";
  port = 0;

  private constructor() {
    this.#server = net.createServer((client) => {
      if (this.#cut) return void client.destroy();
      const upstream = net.connect(5432, "127.0.0.1");
      this.#sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  static async start(host: string): Promise<Relay> {
    const r = new Relay();
    await new Promise<void>((resolve, reject) => {
      r.#server.once("error", reject);
      r.#server.listen(0, host, () => resolve());
    });
    r.host = host;
    r.port = (r.#server.address() as net.AddressInfo).port;
    return r;
  }

  /** Every connection through this relay is destroyed, and new ones are refused, until `restore()`. */
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  get open(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
