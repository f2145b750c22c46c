/**
 * The fuzzer's verdicts: what the edge forwarded must be what llhttp read in the original —
 * message by message, in order — or the edge must have refused (fewer messages forwarded, none
 * different, none extra). Compared: method, origin-form target, the end-to-end header fields (hop-by-hop
 * fields, the fields `Connection` names and X-Forwarded-* set aside), the body bytes.
 */
import type { Seen } from "./wire.js";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "trailer",
  "expect",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
]);

/** The comparable form of a message: what a replica may rely on. */
export interface Shape {
  kind: string;
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
}

function connectionNames(raw: string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== "connection") continue;
    for (const t of (raw[i + 1] as string).split(",")) names.add(t.trim().toLowerCase());
  }
  return names;
}

/** The end-to-end fields, names lower-cased, sorted by name (stable: same-name order kept). */
function endToEnd(raw: string[], dropHost: boolean): [string, string][] {
  const named = connectionNames(raw);
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP.has(name) || named.has(name) || (dropHost && name === "host")) continue;
    out.push([name, raw[i + 1] as string]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** What llhttp read in the original, as the replica should receive it through the edge. */
export function expected(m: Seen): Shape {
  let target = m.url;
  let raw = m.rawHeaders;
  const abs = /^https?:\/\/([^/?#]*)(.*)$/i.exec(m.url);
  if (abs !== null) {
    // Absolute-form: forwarded in origin-form, with the authority as Host (RFC 9112 §3.2.2).
    const rest = abs[2] ?? "";
    target = rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
    const kept: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() !== "host") kept.push(raw[i] as string, raw[i + 1] as string);
    }
    raw = [...kept, "Host", abs[1] as string];
  }
  const hasHost = raw.some((n, i) => i % 2 === 0 && n.toLowerCase() === "host");
  return {
    kind: m.kind,
    method: m.method,
    target,
    headers: endToEnd(raw, !hasHost),
    body: m.body.toString("latin1"),
  };
}

/** What the replica received. */
export function received(m: Seen, refHadHost: boolean): Shape {
  return {
    kind: m.kind,
    method: m.method,
    target: m.url,
    headers: endToEnd(m.rawHeaders, !refHadHost),
    body: m.body.toString("latin1"),
  };
}

/** True when the edge wrote the message (it always sets `X-Forwarded-Proto: http`, the generator never does). */
function forwardedByEdge(m: Seen): boolean {
  for (let i = 0; i < m.rawHeaders.length; i += 2) {
    if ((m.rawHeaders[i] as string).toLowerCase() === "x-forwarded-proto" && m.rawHeaders[i + 1] === "http")
      return true;
  }
  return false;
}

/**
 * The problems found with one case, or none.
 * @param reference what llhttp framed in the original bytes
 * @param upstream what the replica's llhttp framed from what the edge sent
 * @param upstreamErrors what the replica's llhttp refused in what the edge sent
 */
export function judgeRequests(reference: Seen[], upstream: Seen[], upstreamErrors: string[]): string[] {
  const problems: string[] = [];
  // A close in the middle of a message is the edge abandoning it (its client failed), not a framing.
  const errors = upstreamErrors.filter((e) => e !== "HPE_INVALID_EOF_STATE");
  if (errors.length > 0)
    problems.push(`the replica's parser refused what the edge sent: ${errors.join(", ")}`);
  if (upstream.length > reference.length)
    problems.push(`the edge forwarded ${upstream.length} messages where llhttp read ${reference.length}`);
  // In order, each forwarded message is one llhttp read (node serves pipelined requests one by one:
  // a refused message may be followed by the next one, framed as llhttp framed it).
  let r = 0;
  upstream.forEach((m, i) => {
    if (!forwardedByEdge(m))
      problems.push(`message ${i + 1} reached the replica without the edge's rewriting`);
    const b = JSON.stringify(received(m, true));
    let found = false;
    for (; r < reference.length && !found; r++) {
      const want = expected(reference[r] as Seen);
      const refHadHost = want.headers.some(([n]) => n === "host");
      found = JSON.stringify(want) === JSON.stringify(received(m, refHadHost));
    }
    if (!found) {
      const all = reference.map((x) => JSON.stringify(expected(x))).join("\n    ");
      problems.push(
        `message ${i + 1} is none llhttp read (in order):\n  replica got   ${b}\n  llhttp read   ${all}`,
      );
    }
  });
  return problems;
}
