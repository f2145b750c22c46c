import { describe, expect, it } from "vitest";
import { hostOf, pathMatches, pathOf, RouteMatcher } from "../../src/edge/match.js";

describe("route matching", () => {
  it("matches path prefixes on segment boundaries", () => {
    expect(["/api", "/api/", "/api/x", "/apix", "/ap"].map((p) => pathMatches("/api", p))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(pathMatches("/api/", "/api/x")).toBe(true);
    expect(pathMatches("/", "/anything")).toBe(true);
  });

  it("reads the path of origin-form and absolute-form targets, without the query", () => {
    expect([pathOf("/a/b?c=1"), pathOf("http://h:1/x/y?z"), pathOf("http://h"), pathOf("*")]).toEqual([
      "/a/b",
      "/x/y",
      "/",
      undefined,
    ]);
  });

  it("reads the host of a Host header", () => {
    expect([hostOf("Shop.Example:8080"), hostOf("[::1]:80"), hostOf("example.com."), hostOf("::1")]).toEqual([
      "shop.example",
      "::1",
      "example.com",
      "::1",
    ]);
  });

  it("prefers an exact host, then a wildcard host, then any host; then the longest path", () => {
    const routes = [
      { name: "any-root", path: "/" },
      { name: "any-api", path: "/api" },
      { name: "any-api-v2", path: "/api/v2" },
      { name: "wild", host: "*.example.com", path: "/" },
      { name: "exact", host: "admin.example.com", path: "/" },
      { name: "exact-api", host: "admin.example.com", path: "/api" },
    ];
    const m = new RouteMatcher(routes);
    const at = (host: string | undefined, url: string): string | undefined => m.match(host, url)?.name;
    expect(at("admin.example.com", "/api/x")).toBe("exact-api");
    expect(at("ADMIN.example.com:8080", "/x")).toBe("exact");
    expect(at("shop.example.com", "/api/v2/x")).toBe("wild");
    expect(at("example.com", "/api/v2/x")).toBe("any-api-v2");
    expect(at(undefined, "/api?x")).toBe("any-api");
    expect(at("other", "/apiary")).toBe("any-root");
    expect(new RouteMatcher([{ path: "/api" }]).match(undefined, "/other")).toBeUndefined();
  });
});
