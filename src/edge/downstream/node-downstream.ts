/**
 * @module edge/downstream/node-downstream
 * An exchange's client side on node's HTTP server: the request and response objects it creates.
 * Used for the requests the fast path hands over (HTTP/1.0, chunked bodies, `Expect`, upgrades'
 * neighbours, anything unusual); node's parser (llhttp) is the authority on those.
 */
import { IncomingMessage, ServerResponse } from "node:http";
import { answer, type Answer } from "../answers.js";
import type { Downstream, DownstreamClient } from "./downstream.js";

/** The listener's request class: carries its exchange in a field of a fixed shape. */
export class EdgeRequest extends IncomingMessage {
  client: DownstreamClient | null = null;
  /** The client sent `Expect: 100-continue` and waits for `100 Continue` (sent once the request is accepted). */
  expectContinue = false;
}

/** The listener's response class. */
export class EdgeResponse extends ServerResponse<EdgeRequest> {
  client: DownstreamClient | null = null;
}

export class NodeDownstream implements Downstream {
  #drainHooked = false;

  constructor(
    readonly req: EdgeRequest,
    readonly res: EdgeResponse,
  ) {}

  /** Connects the request and response events to `client`. */
  attach(client: DownstreamClient): void {
    this.req.client = client;
    this.res.client = client;
    this.res.on("close", onResponseClose);
  }

  get method(): string {
    return this.req.method ?? "GET";
  }

  get url(): string {
    return this.req.url ?? "/";
  }

  get rawHeaders(): readonly string[] {
    return this.req.rawHeaders;
  }

  get remoteAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }

  get requestComplete(): boolean {
    return this.req.complete;
  }

  get gone(): boolean {
    return this.res.destroyed;
  }

  startBody(): void {
    if (this.req.expectContinue) {
      // The request was accepted (its size checked, a replica connected): now the client may send.
      this.req.expectContinue = false;
      this.res.writeContinue();
    }
    this.req.on("data", onRequestData);
    this.req.on("end", onRequestEnd);
    if (this.req.readableEnded) this.req.client?.onClientEnd();
  }

  pauseBody(): void {
    this.req.pause();
  }

  resumeBody(): void {
    if (this.req.isPaused()) this.req.resume();
  }

  writeHead(status: number, reason: string, headers: string[]): void {
    this.res.writeHead(status, reason, headers);
  }

  write(chunk: Buffer): boolean {
    const ok = this.res.write(Buffer.from(chunk));
    if (!ok && !this.#drainHooked) {
      this.#drainHooked = true;
      this.res.on("drain", onResponseDrain);
    }
    return ok;
  }

  end(chunk: Buffer | null): void {
    if (chunk === null) this.res.end();
    else this.res.end(Buffer.from(chunk));
  }

  answer(a: Answer): void {
    answer(this.res, a);
  }

  destroy(): void {
    this.res.destroy();
  }
}

function onResponseClose(this: EdgeResponse): void {
  this.client?.abort();
}

function onResponseDrain(this: EdgeResponse): void {
  this.client?.onClientDrain();
}

function onRequestData(this: EdgeRequest, chunk: Buffer): void {
  this.client?.onClientData(chunk);
}

function onRequestEnd(this: EdgeRequest): void {
  this.client?.onClientEnd();
}
