/**
 * @module api/tokens
 * `steward token`: create (the token is in this answer only), list (never a secret), revoke.
 */
import type { Hono } from "hono";
import { parseExpires, type TokenBook } from "../auth/token-book.js";
import { TokenRequestError } from "../auth/errors.js";

export interface TokensControl {
  tokens: TokenBook;
}

/** `POST /v1/tokens` body: `{ "name": "ci", "readOnly": true, "expires": "30d" }`. */
function parseCreate(json: unknown): { name: string; readOnly: boolean; expiresInMs?: number } {
  const expected = 'expected {"name": "ci", "readOnly": false, "expires": "30d"}';
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new TokenRequestError(`bad request body: ${expected}`);
  const body = json as Record<string, unknown>;
  for (const key of Object.keys(body))
    if (!["name", "readOnly", "expires"].includes(key))
      throw new TokenRequestError(`bad request body: unknown key \`${key}\`; ${expected}`, { key });
  if (typeof body.name !== "string")
    throw new TokenRequestError(`bad request body: \`name\` is required; ${expected}`);
  if (body.readOnly !== undefined && typeof body.readOnly !== "boolean")
    throw new TokenRequestError("bad request body: `readOnly` must be true or false");
  if (body.expires !== undefined && typeof body.expires !== "string")
    throw new TokenRequestError("bad request body: `expires` must be a duration like `30d`");
  return {
    name: body.name,
    readOnly: body.readOnly === true,
    ...(body.expires !== undefined ? { expiresInMs: parseExpires(body.expires) } : {}),
  };
}

export function tokenRoutes(app: Hono, daemon: TokensControl): void {
  app.get("/v1/tokens", async (c) => c.json({ tokens: await daemon.tokens.list() }));

  app.post("/v1/tokens", async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch (err) {
      throw new TokenRequestError(`request body is not valid JSON: ${(err as Error).message}`);
    }
    const { name, ...opts } = parseCreate(json);
    return c.json(await daemon.tokens.create(name, opts), 201);
  });

  app.post("/v1/tokens/:name/revoke", async (c) =>
    c.json({ token: await daemon.tokens.revoke(c.req.param("name")) }),
  );
}
