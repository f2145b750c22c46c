#!/usr/bin/env node
// Verify step: version.json exists, parses, and holds the expected version (argv[2]).
import { readFileSync } from "node:fs";

const want = process.argv[2];
const { version } = JSON.parse(readFileSync("version.json", "utf8"));
if (version !== want) {
  console.error(`version.json says ${version}, expected ${want}`);
  process.exit(1);
}
console.log(`version.json holds version ${version}, as expected`);
