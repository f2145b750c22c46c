/**
 * @module edge/tunnel-handshake
 * An upgrade request's exchange with its replica, up to the moment it becomes a tunnel — or does
 * not. The replica's answer is parsed strictly (`ResponseParser`):
 *
 * - `101 Switching Protocols` with an `Upgrade` the client offered: the head goes to the client,
 *   then the bytes both sides sent after their heads, then the sockets are piped (`onSwitched`);
 * - any other answer is an ordinary response: hop-by-hop fields removed, the body re-framed
 *   (`Content-Length` kept, other codings kept and re-chunked, else delimited by the close), the
 *   route's timeout applied; then both connections close. The client's bytes after its head are
 *   never sent: they were meant for a protocol the replica did not switch to, and would otherwise
 *   reach it as a request of its own (smuggling);
 * - an invalid answer, a close or a silence before the response head is passed on: `502`/`504`.
 */
import type net from "node:net";
import { ANSWER, answerSocket } from "./answers.js";
import { ResponseParseError, ResponseParser, type ResponseSink } from "./upstream/response-parser.js";

/** What the handshake reports to its tunnel. */
export interface HandshakeOwner {
  /** The replica switched protocols: pipe `client` and `upstream`. */
  onSwitched(): void;
  /** Where the errors' details point. */
  readonly where: { component: string; replica: number; route: string; label: string };
  readonly timeoutMs: number;
}

export class Handshake implements ResponseSink {
  readonly parser = new ResponseParser(this);
  /** Something was written to the client. */
  #sent = false;
  #head: string | null = null;
  #chunked = false;
  #done = false;

  constructor(
    readonly owner: HandshakeOwner,
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    headRequest: boolean,
    upgrade: string,
  ) {
    this.parser.reset(headRequest, upgrade);
    upstream.setTimeout(owner.timeoutMs);
    upstream.on("data", this.#onData);
    upstream.once("end", this.#onEnd);
    upstream.once("timeout", this.#onTimeout);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#done) return;
    let extra: number;
    try {
      extra = this.parser.execute(chunk);
    } catch (err) {
      this.fail(err instanceof ResponseParseError ? err.message : String(err));
      return;
    }
    if (this.parser.switched) {
      this.#stop();
      if (extra > 0) this.client.write(chunk.subarray(chunk.length - extra));
      this.owner.onSwitched();
    } else if (this.parser.done && !this.#done) {
      this.#finish();
    }
  };

  #onEnd = (): void => {
    if (this.#done) return;
    if (this.parser.untilClose) {
      this.parser.eof();
      this.#finish();
      return;
    }
    this.fail(
      `the replica closed the connection ${this.parser.awaitingHead ? "before responding" : "mid-response"}`,
    );
  };

  #onTimeout = (): void => {
    if (this.#done) return;
    const w = this.owner.where;
    if (this.#sent) {
      this.#close();
      return;
    }
    this.#stop();
    this.upstream.destroy();
    answerSocket(this.client, {
      status: 504,
      code: ANSWER.upstreamTimeout,
      message: `${w.label} did not answer within ${this.owner.timeoutMs} ms`,
      details: { component: w.component, replica: w.replica, route: w.route },
    });
  };

  /** The exchange failed: `502` while nothing was sent to the client, else both connections close. */
  fail(message: string): void {
    if (this.#done) return;
    if (this.#sent) {
      this.#close();
      return;
    }
    this.#stop();
    this.upstream.destroy();
    const w = this.owner.where;
    answerSocket(this.client, {
      status: 502,
      code: ANSWER.upstreamFailed,
      message: `${w.label} failed before its response was complete: ${message}`,
      details: { component: w.component, replica: w.replica, route: w.route, attempts: 1, retried: false },
    });
  }

  // ResponseSink: a refusal (any final answer but 101) is passed on as an ordinary response.
  onHead(status: number, reason: string, headers: string[]): void {
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = (headers[i] as string).toLowerCase();
      if (name === "transfer-encoding") this.#chunked = true;
      head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
    }
    // Without Content-Length or codings, the body ends with the connection (it closes after this).
    this.#head = `${head}Connection: close\r\n\r\n`;
  }

  onData(chunk: Buffer | null, done: boolean): void {
    let out = this.#head ?? "";
    this.#head = null;
    const parts: Buffer[] = [];
    if (chunk !== null && chunk.length > 0) {
      if (this.#chunked) out += `${chunk.length.toString(16)}\r\n`;
      parts.push(Buffer.from(out, "latin1"), Buffer.from(chunk));
      out = this.#chunked ? "\r\n" : "";
    }
    if (done && this.#chunked) out += "0\r\n\r\n";
    if (out.length > 0) parts.push(Buffer.from(out, "latin1"));
    if (parts.length > 0) {
      this.#sent = true;
      this.client.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    }
  }

  onSwitch(reason: string, headers: string[], upgrade: string): void {
    let head = `HTTP/1.1 101 ${reason}\r\n`;
    for (let i = 0; i < headers.length; i += 2)
      head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
    this.#sent = true;
    this.client.write(`${head}Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`, "latin1");
  }

  /** A complete refusal: both connections close (the replica's may hold more than its answer). */
  #finish(): void {
    this.#stop();
    this.upstream.destroy();
    this.client.end();
  }

  #close(): void {
    this.#stop();
    this.upstream.destroy();
    this.client.destroy();
  }

  #stop(): void {
    this.#done = true;
    this.upstream.setTimeout(0);
    this.upstream.off("data", this.#onData);
    this.upstream.off("end", this.#onEnd);
    this.upstream.off("timeout", this.#onTimeout);
  }
}
