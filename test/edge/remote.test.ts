/**
 * Other nodes' replicas in the routing table (cluster mode): balanced with this node's own, the
 * same passive ejection, gone from routing when no longer listed, and `prefer: local`.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, ok, request, route, startEdge, upstream, until } from "./helpers.js";

afterEach(cleanup);

const by = (replies: { headers: http.IncomingHttpHeaders }[]): string[] =>
  replies.map((r) => String(r.headers["x-upstream"]));

describe("remote replicas", () => {
  it("are balanced with local ones and leave routing when no longer listed", async () => {
    const [a, b, c] = [await upstream(ok("a")), await upstream(ok("b")), await upstream(ok("c"))];
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setRemoteReplicas("web", [
      { node: "n2", index: 0, host: "127.0.0.1", port: b.port },
      { node: "n3", index: 0, host: "127.0.0.1", port: c.port },
    ]);
    const p = [a, b, c].map((u) => String(u.port));
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await request(port));
    expect(by(replies)).toEqual([...p, ...p]);
    expect(table.snapshot()[0]?.remote?.map((r) => [r.node, r.state])).toEqual([
      ["n2", "in"],
      ["n3", "in"],
    ]);

    // n2 is no longer listed (suspect or down): out at once, the others keep serving.
    table.setRemoteReplicas("web", [{ node: "n3", index: 0, host: "127.0.0.1", port: c.port }]);
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await request(port));
    expect(new Set(by(after))).toEqual(new Set([p[0], p[2]]));
    expect(table.snapshot()[0]?.remote?.map((r) => r.node)).toEqual(["n3"]);
  });

  it("a remote replica that refuses connections is ejected at once and the request retried", async () => {
    const a = await upstream(ok("a"));
    const dead = await upstream(ok("dead"));
    await dead.close();
    const { table, port } = await startEdge();
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setRemoteReplicas("web", [{ node: "n2", index: 0, host: "127.0.0.1", port: dead.port }]);
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await request(port));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(table.snapshot()[0]?.remote?.[0]).toMatchObject({
      node: "n2",
      state: "out",
      reason: "connection refused",
    });
  });

  it("prefer: local keeps requests on this node's replicas while one is routable", async () => {
    const [a, b] = [await upstream(ok("a")), await upstream(ok("b"))];
    const { table, port } = await startEdge([route({ prefer: "local" })]);
    table.setReplica("web", 0, { port: a.port, ready: true });
    table.setRemoteReplicas("web", [{ node: "n2", index: 0, host: "127.0.0.1", port: b.port }]);
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await request(port));
    expect(by(replies)).toEqual(Array(4).fill(String(a.port)));
    // No local replica left: the other node's serve.
    table.setReplica("web", 0, { port: a.port, ready: false });
    await until(() => table.snapshot()[0]?.replicas[0]?.state === "not-ready");
    expect(by([await request(port), await request(port)])).toEqual([String(b.port), String(b.port)]);
  });
});
