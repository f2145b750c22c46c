/**
 * @module edge/match
 * Which route of a listen port a request takes: routes with a matching host first (an exact host
 * before a `*.suffix` one, a longer suffix before a shorter one), then routes without a host; among
 * those, the longest path prefix. A prefix matches on segment boundaries: `/api` matches `/api`,
 * `/api/` and `/api/x?y`, not `/apix`. The path is matched as sent (not decoded or normalised) and
 * forwarded unchanged. An absolute-form target (`http://shop.example/x`) is matched on its own
 * authority, not on the Host field (RFC 9112 §3.2.2).
 */

/** What matching needs of a route. */
export interface Matchable {
  /** Lower-case host, `*.example.com`, or undefined for any host. */
  readonly host?: string;
  readonly path: string;
}

/** The (first) Host field of a request, from its raw headers (no header object is built). */
export function hostField(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === "host") return raw[i + 1];
  }
  return undefined;
}

/** The host of a Host header value: lower case, without port or IPv6 brackets, without a trailing dot. */
export function hostOf(header: string): string {
  let h = header.toLowerCase();
  if (h.startsWith("[")) {
    const close = h.indexOf("]");
    h = close > 0 ? h.slice(1, close) : h;
  } else {
    const colon = h.indexOf(":");
    if (colon >= 0 && h.indexOf(":", colon + 1) < 0) h = h.slice(0, colon);
  }
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** The path of a request target: origin-form as is, absolute-form without scheme and authority, no query. */
export function pathOf(url: string): string | undefined {
  let path = url;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const authority = authorityOf(url);
    if (authority === undefined) return undefined; // `*` (OPTIONS) or authority-form (CONNECT)
    path = url.slice(url.indexOf("://") + 3 + authority.length);
    if (path.charCodeAt(0) !== 47) path = `/${path}`;
  }
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

/** The authority of an absolute-form target (`http://a.example:8080/x` → `a.example:8080`). */
export function authorityOf(url: string): string | undefined {
  const scheme = url.indexOf("://");
  if (scheme < 0) return undefined;
  let end = scheme + 3;
  while (end < url.length && url[end] !== "/" && url[end] !== "?" && url[end] !== "#") end++;
  return url.slice(scheme + 3, end);
}

export function pathMatches(prefix: string, path: string): boolean {
  if (prefix === "/") return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith("/") || path.charCodeAt(prefix.length) === 47;
}

export function hostMatches(pattern: string | undefined, host: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (host === undefined) return false;
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

function rank(r: Matchable): [number, number, number] {
  const hostRank = r.host === undefined ? 2 : r.host.startsWith("*.") ? 1 : 0;
  return [hostRank, -(r.host?.length ?? 0), -r.path.length];
}

export class RouteMatcher<T extends Matchable> {
  readonly #routes: T[];
  /** The only route, when it takes every request (one route, path `/`, any host). */
  readonly #catchAll: T | undefined;
  readonly #byHost: boolean;

  constructor(routes: readonly T[]) {
    this.#routes = [...routes].sort((a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
    });
    const only = this.#routes.length === 1 ? this.#routes[0] : undefined;
    this.#catchAll = only && only.host === undefined && only.path === "/" ? only : undefined;
    this.#byHost = this.#routes.some((r) => r.host !== undefined);
  }

  /** The route for a request with this Host header and target, or undefined (answer `404`). */
  match(hostHeader: string | undefined, url: string): T | undefined {
    if (this.#catchAll !== undefined) return this.#catchAll;
    const path = pathOf(url);
    if (path === undefined) return undefined;
    const hostValue = url.charCodeAt(0) === 47 /* / */ ? hostHeader : authorityOf(url);
    const host = this.#byHost && hostValue !== undefined ? hostOf(hostValue) : undefined;
    for (const r of this.#routes) {
      if (hostMatches(r.host, host) && pathMatches(r.path, path)) return r;
    }
    return undefined;
  }
}
