#!/usr/bin/env node
// `npm run bench [-- <name>...]`: prints figures; never asserts. Each benchmark is a script of
// its own so it can also run alone. Names: startup, gas, node, devnet, engine (default: all that exist).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const all = {
  startup: "bench-startup.mjs",
  gas: "bench-gas.mjs",
  node: "bench-node.mjs",
  devnet: "bench-devnet.mjs",
  engine: "bench-engine.mjs",
};
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(all);
let failed = 0;
for (const name of names) {
  const file = all[name];
  if (!file) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(all).join(", ")}`);
    process.exitCode = 2;
    continue;
  }
  const script = path.join(here, file);
  if (!existsSync(script)) {
    console.log(`\n== ${name}: not available yet (${file} missing)`);
    continue;
  }
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
if (failed > 0) process.exitCode = 1;
