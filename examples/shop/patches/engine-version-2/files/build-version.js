#!/usr/bin/env node
// Build step of the engine-version-2 patch: version.txt → version.json, which engine.js reads at start.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const version = readFileSync("version.txt", "utf8").trim();
if (!/^\d+$/.test(version)) {
  console.error(`version.txt must hold a whole number, found ${JSON.stringify(version)}`);
  process.exit(1);
}
writeFileSync("version.json.tmp", `${JSON.stringify({ version, builtAt: new Date().toISOString() })}\n`);
renameSync("version.json.tmp", "version.json");
console.log(`built version.json: version ${version}`);
