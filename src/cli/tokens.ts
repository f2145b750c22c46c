/**
 * @module cli/tokens
 * `steward token create NAME [--read-only] [--expires 30d] [--json]` (prints the token once),
 * `token list [--json]` (never a secret), `token revoke NAME`: the remote API's tokens, managed
 * through the Unix socket.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import type { TokenInfo } from "../auth/token-book.js";
import { call } from "./client.js";
import { table } from "./render.js";

export interface TokenCliDeps {
  out: (line: string) => void;
  homeOf: (cmd: Command) => Promise<{ file: string; home: string }>;
}

const date = (at: number | null): string => (at === null ? "-" : new Date(at).toISOString());

/** The token list as a table: name, access, created, expires, revoked. */
export function renderTokens(tokens: TokenInfo[]): string {
  if (tokens.length === 0) return "no tokens";
  return table([
    ["NAME", "ACCESS", "CREATED", "EXPIRES", "REVOKED"],
    ...tokens.map((t) => [
      t.name,
      t.readOnly ? "read-only" : "full",
      date(t.createdAt),
      date(t.expiresAt),
      date(t.revokedAt),
    ]),
  ]);
}

export function registerTokens(program: Command, deps: TokenCliDeps): void {
  const { out } = deps;
  const socket = async (cmd: Command): Promise<string> =>
    resolve((await deps.homeOf(cmd)).home, "steward.sock");
  const token = program.command("token").description("tokens of the remote API (`control:` in the topology)");
  token
    .command("create <name>")
    .description("create a token and print it, once: it is stored only as a digest")
    .option("-f, --file <path>", "topology file")
    .option("--read-only", "the token can read everything and change nothing")
    .option("--expires <duration>", "refuse the token after this long, like 30d, 12h or 2w")
    .option("--json", 'print {"name", "token"}')
    .action(
      async (name: string, opts: { readOnly?: boolean; expires?: string; json?: boolean }, cmd: Command) => {
        const body = {
          name,
          readOnly: opts.readOnly ?? false,
          ...(opts.expires ? { expires: opts.expires } : {}),
        };
        const created = await call<{ name: string; token: string }>(
          await socket(cmd),
          "POST",
          "/v1/tokens",
          body,
        );
        out(
          opts.json
            ? JSON.stringify(created)
            : `token ${created.name} (shown once, keep it secret):\n${created.token}`,
        );
      },
    );
  token
    .command("list")
    .description("every token: name, access, created, expires, revoked (never the token)")
    .option("-f, --file <path>", "topology file")
    .option("--json", "print the list as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { tokens } = await call<{ tokens: TokenInfo[] }>(await socket(cmd), "GET", "/v1/tokens");
      out(opts.json ? JSON.stringify({ tokens }, null, 2) : renderTokens(tokens));
    });
  token
    .command("revoke <name>")
    .description("refuse the token from now on (requests with it get 401 at once)")
    .option("-f, --file <path>", "topology file")
    .action(async (name: string, _o, cmd: Command) => {
      const { token: t } = await call<{ token: TokenInfo }>(
        await socket(cmd),
        "POST",
        `/v1/tokens/${encodeURIComponent(name)}/revoke`,
      );
      out(`token ${t.name} revoked at ${date(t.revokedAt)}`);
    });
}
