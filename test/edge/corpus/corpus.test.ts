/**
 * Regression tests from known smuggling payloads (see requests.ts): each is refused by the edge or
 * forwarded as llhttp frames it, and gets the status it must; hostile replica answers reach the
 * client as a 502 or as llhttp reads them, and never leak into the next request's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup } from "../helpers.js";
import { judgeResponses, responseCase } from "../fuzz/responses.js";
import { requestRun, startBench, type Bench } from "../fuzz/run.js";
import { REQUEST_CORPUS, RESPONSE_CORPUS } from "./requests.js";

let bench: Bench;
beforeAll(async () => {
  bench = await startBench();
});
afterAll(cleanup);

describe("request smuggling corpus", () => {
  it.each(REQUEST_CORPUS)("$name", async (entry) => {
    const { problems, answer } = await requestRun(bench, Buffer.from(entry.bytes, "latin1"), 250);
    expect(problems).toEqual([]);
    if (entry.status !== undefined) {
      const text = answer.toString("latin1");
      expect(text.slice(0, 12)).toBe(`HTTP/1.1 ${entry.status}`);
      if (entry.status >= 400) expect(text).toMatch(/\r\n\r\n\{"error":\{"code":"[A-Z_]+"/);
    }
  });
});

describe("hostile replica answers", () => {
  const cases = RESPONSE_CORPUS.flatMap((entry) =>
    (["fast", "node"] as const).map((via) => ({ ...entry, via })),
  );
  it.each(cases)("$name ($via path)", async (entry) => {
    const closeAfter = !entry.name.includes("smuggled");
    const outcome = await responseCase(
      bench.scripted,
      bench.scriptedPort,
      Buffer.from(entry.bytes, "latin1"),
      closeAfter,
      entry.via,
    );
    expect(judgeResponses(outcome)).toEqual([]);
    if (entry.status !== undefined) expect(outcome.edge[0].status).toBe(entry.status);
  });
});
