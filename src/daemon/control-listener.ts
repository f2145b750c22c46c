/**
 * @module daemon/control-listener
 * The remote API listener of `control:` (design §8): the control API over HTTPS (node:https) when
 * `control.tls` is set, plain HTTP otherwise (loopback, or `insecure: true`; topology/control), with
 * a bearer token on every request (api/remote). The TLS files are read at boot, before anything
 * starts, so a missing or unreadable one stops the daemon naming the file.
 */
import { createAdaptorServer } from "@hono/node-server";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createSecureContext } from "node:tls";
import type { Hono } from "hono";
import { remoteFetch } from "../api/remote.js";
import { TlsConfigError, TlsFileError } from "../auth/errors.js";
import type { TokenBook } from "../auth/token-book.js";
import type { CompiledControl } from "../topology/types.js";

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads and checks `control.tls`.
 * @throws TlsFileError (STW-6009) naming a file that is missing or unreadable.
 * @throws TlsConfigError (STW-6010) when the two do not make a certificate and its key.
 */
export function readTls(control: CompiledControl): TlsFiles | undefined {
  if (!control.tls) return undefined;
  const read = (key: "cert" | "key", file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new TlsFileError(key, file, err);
    }
  };
  const files = { cert: read("cert", control.tls.certFile), key: read("key", control.tls.keyFile) };
  try {
    createSecureContext(files);
  } catch (err) {
    throw new TlsConfigError(control.tls.certFile, control.tls.keyFile, err);
  }
  return files;
}

/** Serves `app` on `control`'s address behind tokens; resolves once it listens. */
export async function listenControl(
  control: CompiledControl,
  tls: TlsFiles | undefined,
  app: Hono,
  tokens: TokenBook,
): Promise<Server> {
  const fetch = remoteFetch(app, tokens);
  const server = (
    tls
      ? createAdaptorServer({
          fetch,
          createServer: createHttpsServer,
          serverOptions: { cert: tls.cert, key: tls.key },
        })
      : createAdaptorServer({ fetch })
  ) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(control.port, control.address, () => resolve());
  });
  return server;
}

/** `https://127.0.0.1:7400`, for the log. */
export function controlUrl(control: CompiledControl): string {
  const host = control.address.includes(":") ? `[${control.address}]` : control.address;
  return `${control.tls ? "https" : "http"}://${host}:${control.port}`;
}
