/**
 * @module edge/upstream/response-error
 * What the response parser throws for a replica's answer it will not pass on: the exchange answers
 * `502 UPSTREAM_FAILED` and the connection is not reused.
 */
export class ResponseParseError extends Error {
  constructor(message: string) {
    super(`invalid response from the replica: ${message}`);
    this.name = "ResponseParseError";
  }
}
