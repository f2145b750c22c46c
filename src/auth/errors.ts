/**
 * @module auth/errors
 * Errors of the remote API's authentication and of token management (STW-6xxx). The 401s say what
 * was wrong with the token, never which tokens exist.
 */
import { StewardError } from "../errors.js";

const BEARER =
  "send `Authorization: Bearer <token>` (a token from `<home>/tokens/admin` or `steward token create`)";

/** No `Authorization: Bearer …` header. */
export class TokenMissingError extends StewardError {
  constructor() {
    super("STW-6001", `this API needs a token: ${BEARER}`, { httpStatus: 401 });
  }
}

/** The token matches none the daemon knows. */
export class TokenInvalidError extends StewardError {
  constructor() {
    super("STW-6002", `the token is not valid: ${BEARER}`, { httpStatus: 401 });
  }
}

export class TokenRevokedError extends StewardError {
  constructor(name: string, at: number) {
    super("STW-6003", `token \`${name}\` was revoked at ${new Date(at).toISOString()}; ask for a new one`, {
      httpStatus: 401,
      details: { token: name, revokedAt: at },
    });
  }
}

export class TokenExpiredError extends StewardError {
  constructor(name: string, at: number) {
    super("STW-6004", `token \`${name}\` expired at ${new Date(at).toISOString()}; ask for a new one`, {
      httpStatus: 401,
      details: { token: name, expiresAt: at },
    });
  }
}

/** A read-only token on a route that changes something. */
export class ReadOnlyTokenError extends StewardError {
  constructor(name: string, method: string, path: string) {
    super("STW-6005", `token \`${name}\` is read-only and cannot call ${method} ${path}`, {
      httpStatus: 403,
      details: { token: name, method, path },
    });
  }
}

/** Too many refused tokens from one address: slowed down (429 with `Retry-After`). */
export class TooManyFailuresError extends StewardError {
  constructor(
    address: string,
    readonly retryAfterS: number,
  ) {
    super(
      "STW-6006",
      `too many requests with a missing or bad token from ${address}; try again in ${retryAfterS}s`,
      { httpStatus: 429, details: { address, retryAfter: retryAfterS } },
    );
  }
}

export class TokenNameTakenError extends StewardError {
  constructor(name: string) {
    super(
      "STW-6007",
      `a token named \`${name}\` exists already (revoked tokens keep their name): pick another name`,
      { httpStatus: 409, details: { token: name } },
    );
  }
}

export class UnknownTokenError extends StewardError {
  constructor(name: string, known: string[]) {
    const list = known.length
      ? `; tokens: ${known.map((n) => `\`${n}\``).join(", ")}`
      : "; there are no tokens";
    super("STW-6008", `no token named \`${name}\`${list}`, { httpStatus: 404, details: { token: name } });
  }
}

/** A TLS file of `control.tls` is missing or unreadable: the daemon does not start. */
export class TlsFileError extends StewardError {
  constructor(key: "cert" | "key", file: string, cause: unknown) {
    const why =
      (cause as NodeJS.ErrnoException).code === "ENOENT"
        ? "does not exist"
        : `cannot be read (${(cause as Error).message})`;
    super(
      "STW-6009",
      `control.tls.${key}: ${file} ${why}; the remote API cannot start: fix the path in the topology, or the file's permissions`,
      { httpStatus: 500, details: { key, file }, cause },
    );
  }
}

/** The TLS files were read but do not make a certificate and key pair. */
export class TlsConfigError extends StewardError {
  constructor(cert: string, key: string, cause: unknown) {
    super(
      "STW-6010",
      `control.tls: ${cert} and ${key} are not a usable PEM certificate and its private key (${(cause as Error).message})`,
      { httpStatus: 500, details: { cert, key }, cause },
    );
  }
}

/** `token create`: a name or `expires` that cannot be used. */
export class TokenRequestError extends StewardError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("STW-6011", message, { httpStatus: 400, details });
  }
}
