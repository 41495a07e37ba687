#!/usr/bin/env node
// Start-up time of `avsctl --version` and `avsctl --help` against `node -e 0` (median of N runs).
// Target (issue 2): avsctl --version at most 2x node -e 0.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "bin", "avsctl.js");
const runs = Number(process.env.BENCH_RUNS ?? 15);

function median(args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: "ignore" });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const baseline = median(["-e", "0"]);
const version = median([bin, "--version"]);
const help = median([bin, "--help"]);
const row = (name, ms) =>
  `${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / baseline).toFixed(2)}x`;
console.log(`runs: ${runs} each (median)`);
console.log(row("node -e 0", baseline));
console.log(row("avsctl --version", version));
console.log(row("avsctl --help", help));
console.log(`target: avsctl --version <= 2.00x node -e 0 -> ${version / baseline <= 2 ? "met" : "NOT met"}`);
console.log(
  JSON.stringify({
    bench: "startup",
    runs,
    nodeMs: baseline,
    versionMs: version,
    helpMs: help,
    ratio: version / baseline,
  }),
);
