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
  framing: Framing;
  /** The request's Content-Length (-1 when absent). */
  contentLength: number;
  /** The client sent no Host (HTTP/1.0): the head lacks its final empty line; add `Host: …\r\n\r\n`. */
  hostMissing: boolean;
}

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
  let head = `${method} ${url} HTTP/1.1\r\n`;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let connection: string | undefined;
  let upgradeValue: string | undefined;
  let contentLength = -1;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 2:
        if (name.toLowerCase() === "te") continue;
        break;
      case 4:
        if (host === undefined && name.toLowerCase() === "host") host = value;
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
        if (name.toLowerCase() === "content-length") contentLength = Number(value);
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
          chunked = true;
          continue;
        }
        if (lower === "x-forwarded-proto") continue;
        break;
      }
    }
    head += `${name}: ${value}\r\n`;
  }
  if (connection !== undefined) {
    const named = connectionNames(connection);
    if (named !== null) head = removeLines(head, named);
  }
  if (upgrade && upgradeValue !== undefined) head += `Connection: Upgrade\r\nUpgrade: ${upgradeValue}\r\n`;
  if (chunked) head += "Transfer-Encoding: chunked\r\n";
  const client = remoteAddress ?? "unknown";
  head += `X-Forwarded-For: ${forwardedFor === undefined ? client : `${forwardedFor}, ${client}`}\r\n`;
  head += "X-Forwarded-Proto: http\r\n";
  if (host !== undefined) head += `X-Forwarded-Host: ${host}\r\n`;
  body.framing = chunked ? Framing.Chunked : contentLength > 0 ? Framing.Length : Framing.None;
  body.contentLength = contentLength;
  body.hostMissing = host === undefined;
  return host === undefined ? head : `${head}\r\n`;
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
