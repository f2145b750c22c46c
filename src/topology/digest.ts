/**
 * @module topology/digest
 * A digest of the topology file's bytes. The daemon keeps the one it loaded; the CLI sends the
 * current one with each operation, so an operator who edited the file hears that the running
 * daemon still follows the old one.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export function topologyDigest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
}
