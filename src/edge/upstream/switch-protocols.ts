/**
 * @module edge/upstream/switch-protocols
 * A `101 Switching Protocols` is accepted only as the answer to an upgrade request, and only to
 * protocols that request offered: a 101 to a plain request, or to a protocol nobody asked for,
 * would turn the client's connection into a raw pipe to the replica (issue 10).
 */
import { ResponseParseError } from "./response-error.js";

/** The protocol names of an Upgrade field, lower case, without versions' surrounding spaces. */
export function protocols(value: string): string[] {
  return value
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== "");
}

/**
 * Checks a 101 before the connection is switched.
 * @param offered the protocols the request offered (lower case), or null for a plain request
 * @param upgrade the 101's Upgrade field
 * @throws ResponseParseError
 */
export function checkSwitch(offered: readonly string[] | null, upgrade: string | undefined): void {
  if (offered === null) throw new ResponseParseError("101 Switching Protocols to a request without Upgrade");
  const chosen = upgrade === undefined ? [] : protocols(upgrade);
  if (chosen.length === 0 || !chosen.every((p) => offered.includes(p)))
    throw new ResponseParseError(
      `101 Switching Protocols to \`${upgrade ?? ""}\`, which the client did not offer`,
    );
}
