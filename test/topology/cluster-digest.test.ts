/**
 * The drift digest (src/topology/cluster.ts): what each node has of its own leaves it alike, what
 * must be the same on every node changes it.
 */
import { describe, expect, it } from "vitest";
import { clusterDigest } from "../../src/topology/cluster.js";

const file = (node: string, advertise: string | undefined, listen: unknown, replicas = 2): unknown => ({
  name: "shop",
  home: `/srv/${node}`,
  store: `postgres://postgres@${advertise ?? "127.0.0.1"}:5432/shop`,
  cluster: { node, ...(advertise === undefined ? {} : { advertise }), heartbeat: "1s" },
  components: { web: { command: "node web.js", replicas } },
  routes: [
    { listen, to: "web" },
    { to: "web", path: "/nolisten" },
  ],
});

describe("clusterDigest", () => {
  it("ignores the node's own keys and a route listening on its own advertised address", () => {
    const d1 = clusterDigest(file("n1", "127.0.0.1", "127.0.0.1:8080"));
    expect(clusterDigest(file("n2", "127.0.0.2", "127.0.0.2:8080"))).toBe(d1);
    expect(clusterDigest(file("n3", "::3", "[::3]:8080"))).toBe(d1);
    // No advertise: the default 127.0.0.1 is the node's own address.
    expect(clusterDigest(file("n4", undefined, "127.0.0.1:8080"))).toBe(d1);
  });

  it("ignores a wildcard listen address, not its port", () => {
    const a = clusterDigest(file("n1", "127.0.0.1", "0.0.0.0:8080"));
    expect(clusterDigest(file("n2", "127.0.0.2", "[::]:8080"))).toBe(a);
    expect(clusterDigest(file("n2", "127.0.0.2", "0.0.0.0:8081"))).not.toBe(a);
  });

  it("sees what must be alike: replicas, a listen port, another node's address, a bare port", () => {
    const d1 = clusterDigest(file("n1", "127.0.0.1", "127.0.0.1:8080"));
    expect(clusterDigest(file("n2", "127.0.0.2", "127.0.0.2:8080", 3))).not.toBe(d1);
    expect(clusterDigest(file("n2", "127.0.0.2", "127.0.0.2:9090"))).not.toBe(d1);
    // n2 listening on n1's address is not n2's own route on its own address.
    expect(clusterDigest(file("n2", "127.0.0.2", "127.0.0.1:8080"))).not.toBe(d1);
    expect(clusterDigest(file("n1", "127.0.0.1", 8080))).toBe(clusterDigest(file("n2", "127.0.0.2", 8080)));
    expect(clusterDigest(file("n1", "127.0.0.1", 8080))).not.toBe(d1);
  });
});
