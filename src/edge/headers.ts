/**
 * @module edge/headers
 * What the edge changes in the header fields it forwards.
 *
 * Hop-by-hop fields are removed in both directions. RFC 9110 §7.6.1: "Connection" and every field
 * it names, and "Proxy-Connection", "Keep-Alive", "TE", "Transfer-Encoding" and "Upgrade", apply
 * to one connection only, so an intermediary removes them before forwarding (the message framing
 * is redone per connection). `Expect` is answered by the edge itself, and `Trailer` is dropped
 * with the trailers it announces (the edge does not forward trailer fields).
 *
 * Refused (the caller answers `400`, `refusal` says why): a `Connection` field naming a field that
 * frames or routes the message (`Content-Length`, `Transfer-Encoding`, `Host`) — removing it while the
 * body is forwarded would let the replica read the body as another request; a second `Host`
 * (RFC 9112 §3.2); a `Transfer-Encoding` whose final coding is not `chunked`, or that applies
 * `chunked` twice, or comes with `Content-Length` (RFC 9112 §6.1, §6.3); a target that is neither
 * origin-form, `http(s)://` absolute-form nor `*` for OPTIONS. An absolute-form target is sent on in
 * origin-form, with the target's authority as `Host` (RFC 9112 §3.2.2).
 *
 * Added towards the replica: `X-Forwarded-For` (the client's address appended to any list it sent),
 * `X-Forwarded-Proto` (`http`) and `X-Forwarded-Host` (the Host the client asked for), replacing
 * whatever the client sent in the last two.
 */
/**
 * True for hop-by-hop fields (RFC 9110 §7.6.1) and for the ones the edge handles itself (`Expect`,
 * `Trailer`). Case-insensitive; `Connection` must also be checked for the names it lists.
 */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === "te";
    case 6:
      return name.toLowerCase() === "expect";
    case 7: {
      const lower = name.toLowerCase();
      return lower === "upgrade" || lower === "trailer";
    }
    case 10: {
      const lower = name.toLowerCase();
      return lower === "connection" || lower === "keep-alive";
    }
    case 16:
      return name.toLowerCase() === "proxy-connection";
    case 17:
      return name.toLowerCase() === "transfer-encoding";
    default:
      return false;
  }
}

/** How a request body is framed towards the replica. */
export const Framing = {
  /** No body. */
  None: 0,
  /** `Content-Length` bytes. */
  Length: 1,
  /** `Transfer-Encoding: chunked`, re-chunked by the edge. */
  Chunked: 2,
} as const;
export type Framing = (typeof Framing)[keyof typeof Framing];

/** Where `buildRequestHead` reports what it found. */
export interface BodyInfo {
  /** Why the request must be refused with `400` (null: it may be forwarded). */
  refusal: string | null;
  framing: Framing;
  /** The request's Content-Length (-1 when absent). */
  contentLength: number;
  /** The client sent no Host (HTTP/1.0): the head lacks its final empty line; add `Host: …\r\n\r\n`. */
  hostMissing: boolean;
}

/** Fields a `Connection` field must not name: removing them would change how the message is framed or routed. */
const FRAMING_OR_ROUTING = new Set(["content-length", "transfer-encoding", "host"]);

/** The tokens of a Connection field that name other fields (not `close`, `keep-alive`, `upgrade`). */
function connectionNames(value: string): Set<string> | null {
  let names: Set<string> | null = null;
  for (const raw of value.split(",")) {
    const t = raw.trim().toLowerCase();
    if (t === "" || t === "close" || t === "keep-alive" || t === "upgrade") continue;
    (names ??= new Set()).add(t);
  }
  return names;
}

/**
 * The request line and header block to send to a replica, ending with the empty line — unless the
 * client sent no Host (`body.hostMissing`): then the caller appends `Host: <replica>\r\n\r\n`.
 *
 * @param upgrade keep `Connection: Upgrade` and `Upgrade` (a WebSocket handshake) instead of removing them
 * @param body receives the body framing and whether Host is missing
 * @example buildRequestHead("GET", "/x", ["Host", "shop"], "10.0.0.7", false, info) // "GET /x HTTP/1.1\r\nHost: shop\r\n…\r\n\r\n"
 */
export function buildRequestHead(
  method: string,
  url: string,
  raw: readonly string[],
  remoteAddress: string | undefined,
  upgrade: boolean,
  body: BodyInfo,
): string {
  let refusal: string | null = null;
  let target = url;
  // Absolute-form: routed and forwarded on its authority, in origin-form (RFC 9112 §3.2.2).
  let authority: string | undefined;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const t = splitAbsoluteForm(url);
    if (t !== undefined) {
      authority = t.authority;
      target = t.path;
    } else if (!(url === "*" && method === "OPTIONS")) {
      refusal = `the request target \`${url.slice(0, 100)}\` is not origin-form or http absolute-form`;
    }
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let host = authority;
  let hosts = 0;
  let forwardedFor: string | undefined;
  let connection: string | undefined;
  let upgradeValue: string | undefined;
  let contentLength = -1;
  let transferEncoding: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 2:
        if (name.toLowerCase() === "te") continue;
        break;
      case 4:
        if (name.toLowerCase() === "host") {
          hosts += 1;
          if (authority !== undefined) continue;
          host ??= value;
        }
        break;
      case 6:
        if (name.toLowerCase() === "expect") continue;
        break;
      case 7: {
        const lower = name.toLowerCase();
        if (lower === "upgrade") {
          upgradeValue = value;
          continue;
        }
        if (lower === "trailer") continue;
        break;
      }
      case 10: {
        const lower = name.toLowerCase();
        if (lower === "connection") {
          connection = connection === undefined ? value : `${connection}, ${value}`;
          continue;
        }
        if (lower === "keep-alive") continue;
        break;
      }
      case 14:
        if (name.toLowerCase() === "content-length") {
          if (contentLength !== -1) refusal ??= "more than one Content-Length field";
          contentLength = /^\d{1,15}$/.test(value) ? Number(value) : -2;
          if (contentLength === -2) refusal ??= `bad Content-Length \`${value.slice(0, 40)}\``;
        }
        break;
      case 15:
        if (name.toLowerCase() === "x-forwarded-for") {
          forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
          continue;
        }
        break;
      case 16: {
        const lower = name.toLowerCase();
        if (lower === "proxy-connection" || lower === "x-forwarded-host") continue;
        break;
      }
      case 17: {
        const lower = name.toLowerCase();
        if (lower === "transfer-encoding") {
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
          continue;
        }
        if (lower === "x-forwarded-proto") continue;
        break;
      }
    }
    head += `${name}: ${value}\r\n`;
  }
  if (hosts > 1) refusal ??= "more than one Host field (RFC 9112 §3.2)";
  if (connection !== undefined) {
    const named = connectionNames(connection);
    if (named !== null) {
      for (const n of named) {
        if (FRAMING_OR_ROUTING.has(n))
          refusal ??= `the Connection field names ${n}, which frames or routes the message`;
      }
      head = removeLines(head, named);
    }
  }
  if (transferEncoding !== undefined) {
    const why = checkTransferCodings(transferEncoding);
    if (why !== null) refusal ??= why;
    if (contentLength !== -1) refusal ??= "both Transfer-Encoding and Content-Length (RFC 9112 §6.3)";
  }
  if (authority !== undefined) head += `Host: ${authority}\r\n`;
  if (upgrade && upgradeValue !== undefined) head += `Connection: Upgrade\r\nUpgrade: ${upgradeValue}\r\n`;
  // The codings are kept (the edge only redoes the chunking): `gzip, chunked` stays `gzip, chunked`.
  if (transferEncoding !== undefined) head += `Transfer-Encoding: ${transferEncoding}\r\n`;
  const client = remoteAddress ?? "unknown";
  head += `X-Forwarded-For: ${forwardedFor === undefined ? client : `${forwardedFor}, ${client}`}\r\n`;
  head += "X-Forwarded-Proto: http\r\n";
  if (host !== undefined) head += `X-Forwarded-Host: ${host}\r\n`;
  body.refusal = refusal;
  body.framing =
    transferEncoding !== undefined ? Framing.Chunked : contentLength > 0 ? Framing.Length : Framing.None;
  body.contentLength = contentLength;
  body.hostMissing = host === undefined;
  return host === undefined ? head : `${head}\r\n`;
}

/**
 * Checks a request's transfer codings (RFC 9112 §6.3, §7): `chunked` must be the final one and
 * appear once; otherwise the body's end cannot be found.
 * @returns why it is refused, or null
 */
export function checkTransferCodings(value: string): string | null {
  const codings = value.split(",").map((c) => c.trim().toLowerCase());
  const last = codings.length - 1;
  for (let i = 0; i < last; i++) {
    if (codings[i] === "chunked") return "Transfer-Encoding applies chunked more than once or not last";
  }
  if (codings[last] !== "chunked")
    return `Transfer-Encoding \`${value.slice(0, 60)}\` does not end with chunked (RFC 9112 §6.3)`;
  return null;
}

/** An `http://` or `https://` absolute-form target split into authority and origin-form path. */
export function splitAbsoluteForm(url: string): { authority: string; path: string } | undefined {
  const m = /^https?:\/\/([^/?#@]+)([/?][^#]*)?$/i.exec(url);
  if (m === null) return undefined;
  const rest = m[2] ?? "/";
  return { authority: m[1] as string, path: rest.startsWith("?") ? `/${rest}` : rest };
}

/** Removes the header lines whose lower-case names are in `names` (rare: a Connection listing custom fields). */
function removeLines(head: string, names: Set<string>): string {
  const lines = head.split("\r\n");
  const kept = [lines[0]];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    const name = line.slice(0, line.indexOf(":")).toLowerCase();
    if (!names.has(name)) kept.push(line);
  }
  return `${kept.join("\r\n")}\r\n`;
}
