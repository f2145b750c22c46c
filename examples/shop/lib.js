// Small helpers shared by the shop's programs (Node built-ins only).
import http from "node:http";

/** Parses `--name value` / `--flag` arguments; `spec` maps names to their defaults (booleans are flags). */
export function parseArgs(argv, spec) {
  const out = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const name = arg.slice(2);
    if (!(name in spec)) throw new Error(`unknown option --${name} (known: ${Object.keys(spec).join(", ")})`);
    if (typeof spec[name] === "boolean") {
      out[name] = true;
    } else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      out[name] = value;
    }
  }
  return out;
}

/** Reads a request or response body into a Buffer, refusing more than `limit` bytes. */
export function readBody(stream, limit = 16 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    stream.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        const err = new Error(`body larger than ${limit} bytes`);
        err.code = "BODY_TOO_LARGE";
        stream.destroy();
        reject(err);
        return;
      }
      chunks.push(chunk);
    });
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One HTTP request with a hard timeout. Resolves `{ status, body }` (body is a string); rejects on a
 * connection error or timeout (the error says which URL failed).
 */
export function request(method, url, { body, headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: payload ? { "content-length": payload.length, ...headers } : headers,
      },
      (res) => {
        readBody(res).then(
          (buf) => resolve({ status: res.statusCode ?? 0, body: buf.toString("utf8") }),
          reject,
        );
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)),
    );
    req.on("error", (err) => {
      if (!err.message.includes(url)) err.message = `${method} ${url}: ${err.message}`;
      reject(err);
    });
    req.end(payload);
  });
}

/** Answers with a status, a body (string, Buffer or JSON value) and closes nothing else. */
export function reply(res, status, body) {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    res.end(body);
    return;
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body) + "\n");
}

/** `/kv/<key>` → decoded key; `/kv` → ""; anything else → undefined. */
export function kvKey(pathname) {
  if (pathname === "/kv" || pathname === "/kv/") return "";
  if (!pathname.startsWith("/kv/")) return undefined;
  try {
    return decodeURIComponent(pathname.slice(4));
  } catch {
    return undefined;
  }
}

/** Logs one line with the program name and an ISO timestamp (goes to the replica's log file). */
export function logger(name) {
  return (...parts) => console.log(`${new Date().toISOString()} ${name}[${process.pid}]`, ...parts);
}
