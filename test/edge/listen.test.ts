import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Edge, EdgeListenError, RoutingTable } from "../../src/edge/index.js";
import { cleanup, component, onCleanup, route } from "./helpers.js";

afterEach(cleanup);

describe("listening", () => {
  it("a port in use: an error naming the port and the program holding it; nothing stays bound", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    onCleanup(() => new Promise<void>((r) => holder.close(() => r())));
    const taken = (holder.address() as net.AddressInfo).port;
    const table = new RoutingTable([component()]);
    onCleanup(() => table.close());

    const free = route({ path: "/", listen: 0 });
    const busy = route({ path: "/api", listen: taken });
    const err = await Edge.start([free, busy], [component()], table).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeListenError);
    const e = err as EdgeListenError;
    expect(e.code).toBe("STW-4001");
    expect(e.port).toBe(taken);
    expect(e.holder?.pid).toBe(process.pid);
    expect(e.message).toBe(
      `edge: cannot listen on 127.0.0.1:${taken} (route :${taken} /api → web): port ${taken} is already in use by pid ${process.pid} (${e.holder?.command})`,
    );
    expect(e.holder?.command).toMatch(/node/);
  });

  it("routes sharing a port share one listener; routes to an unknown component are refused", async () => {
    const table = new RoutingTable([component("web")]);
    onCleanup(() => table.close());
    const edge = await Edge.start([route({ path: "/a" }), route({ path: "/b" })], [component("web")], table);
    onCleanup(async () => {
      await edge.close(100);
    });
    expect(edge.addresses).toEqual([
      { address: "127.0.0.1", port: expect.any(Number), routes: [":0 /a → web", ":0 /b → web"] },
    ]);
    await expect(Edge.start([route({ component: "nope" })], [component("web")], table)).rejects.toThrow(
      "edge: route :0 / goes to `nope`, which is not a component",
    );
  });
});
