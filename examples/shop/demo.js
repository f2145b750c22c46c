#!/usr/bin/env node
// `npm run demo`: starts the shop under Steward (`steward up`), shows `steward status` and prints
// what to try next. Works from any directory: paths are resolved from this file's location.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const cli = path.join(root, "bin", "steward.js");
const topology = path.join(here, "steward.yaml");

if (!fs.existsSync(path.join(root, "dist", "cli", "main.js"))) {
  console.error(
    "demo: Steward is not built (no dist/cli/main.js); run `npm run build` first, or `npm run demo`.",
  );
  process.exit(1);
}

/** Runs the Steward CLI with inherited stdio; returns its exit status. */
function steward(...args) {
  const res = spawnSync(process.execPath, [cli, "-f", topology, ...args], { stdio: "inherit", cwd: root });
  if (res.error) {
    console.error(`demo: could not run steward ${args.join(" ")}: ${res.error.message}`);
    return 1;
  }
  return res.status ?? 1;
}

// How to write the same commands from where the user is (absolute when outside the repository).
const rel = (p) => {
  const r = path.relative(process.cwd(), p);
  return r === "" ? "." : r.startsWith("..") ? p : r;
};
const cmd = `node ${rel(cli)} -f ${rel(topology)}`;
const storePort = process.env.SHOP_STORE_PORT || "7001";
const enginePrefix = process.env.SHOP_ENGINE_PORT_PREFIX || "710";

console.log(`demo: ${cmd} up`);
const up = steward("up");
if (up !== 0) {
  console.error(
    `\ndemo: \`steward up\` failed (exit ${up}). Look at \`${cmd} logs store\` and the other logs,`,
  );
  console.error(`then \`${cmd} down\` before trying again.`);
  process.exit(up);
}
console.log(`\ndemo: ${cmd} status`);
steward("status");

console.log(`
The shop is running: a store (:${storePort}), two engines (:${enginePrefix}0, :${enginePrefix}1) with a
write-back cache, a scheduler writing tick-<n> every 300 ms and an archiver. Try:

  # write through engine 0: acknowledged (202) while still in its cache; engine 1 reads the
  # store, so it answers 404 until engine 0 has flushed (within 2 s)
  curl -X PUT --data-binary hello http://127.0.0.1:${enginePrefix}0/kv/greeting
  curl http://127.0.0.1:${enginePrefix}1/kv/greeting

  ${cmd} status
  ${cmd} logs engine
  # restart the engines: each replica is drained (its cache flushed) before it is stopped
  ${cmd} restart engine
  # is every write the scheduler saw acknowledged in the store?
  node ${rel(path.join(here, "verify.js"))}
  # stop everything in reverse order, and the daemon
  ${cmd} down

See ${rel(path.join(here, "README.md"))} for what each program does.`);
