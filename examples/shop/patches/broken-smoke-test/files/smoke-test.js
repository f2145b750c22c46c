#!/usr/bin/env node
// The smoke test of broken-smoke-test: it expects version 3, which nothing builds, so it fails.
import { readFileSync } from "node:fs";

const { version } = JSON.parse(readFileSync("version.json", "utf8"));
if (version !== "3") {
  console.error(`smoke test: the engine would answer version ${version}, expected 3`);
  process.exit(1);
}
