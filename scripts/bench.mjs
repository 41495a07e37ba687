#!/usr/bin/env node
// `npm run bench [-- <name>...] [--out <file>] [--compare <file>] [--no-write]`: prints figures;
// never asserts. Each benchmark is a script of its own so it can also run alone. Names: startup,
// gas, node, devnet, engine (default: all that exist). The figures each one prints as its JSON
// line are written together to a report (default bench-results/<UTC time>.json, gitignored) with
// a short markdown table beside it (.md); --compare <earlier report> puts before and after side
// by side in that table and prints it.
//
// Each bench reads its own env knobs (see the header of each script); the child scripts inherit
// this environment. The node bench's: BENCH_SECONDS (each throughput row's window, default 30),
// BENCH_RATE (the load row, default 100 tasks/s), BENCH_SUSTAINED_RATE (default 210 tasks/s),
// BENCH_OVERLOAD_SECONDS (default the smaller of 15 and BENCH_SECONDS), BENCH_OVERLOAD_RATE
// (default twice the most that reached the chain per second in the load and sustained rows),
// BENCH_LATENCY_TASKS, BENCH_ROWS (a subset of latency,load,sustained,overload),
// BENCH_NODE_FLAGS, BENCH_NODE_DIST, BENCH_PROFILE, BENCH_BLOCK_TIME. With the defaults the node
// bench takes about 100 s (windows of 10 s + 2 x BENCH_SECONDS + the overload's, set-up and
// draining); BENCH_SECONDS=15 takes about a minute.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildReport,
  defaultReportPath,
  lastBenchLine,
  machineInfo,
  readReport,
  speedProbe,
  toMarkdown,
  writeReport,
} from "./lib/bench-report.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const all = {
  startup: "bench-startup.mjs",
  gas: "bench-gas.mjs",
  node: "bench-node.mjs",
  devnet: "bench-devnet.mjs",
  engine: "bench-engine.mjs",
};
const args = process.argv.slice(2);
const wanted = [];
let out;
let compare;
let write = true;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--out") out = args[++i];
  else if (a === "--compare") compare = args[++i];
  else if (a === "--no-write") write = false;
  else wanted.push(a);
}
if ((out === undefined && args.includes("--out")) || (compare === undefined && args.includes("--compare"))) {
  console.error("--out and --compare take a file");
  process.exit(2);
}
let previous;
try {
  previous = compare ? readReport(compare) : undefined;
} catch (error) {
  console.error(`--compare: cannot read ${compare}: ${error.message}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : Object.keys(all);

/** Runs one bench script, its output shown as it comes and kept to find its JSON line. */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ["inherit", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (d) => {
      process.stdout.write(d);
      output += d;
      // keep only the tail: the JSON line comes last
      if (output.length > 4_000_000) output = output.slice(-1_000_000);
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}

const startedAt = new Date();
const machine = { ...machineInfo(), speedProbeMs: { start: speedProbe() } };
const results = {};
const notes = [];
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
  const r = await run(script);
  if (r.code !== 0) {
    failed++;
    notes.push(`${name} exited ${r.code}`);
  }
  const figures = lastBenchLine(r.output);
  if (figures) results[name] = figures;
  else notes.push(`${name} printed no figures`);
}
machine.speedProbeMs.end = speedProbe();
if (failed > 0) process.exitCode = 1;
if (Object.keys(results).length > 0 || previous) {
  const report = buildReport({ results, machine, date: startedAt, notes });
  if (write) {
    const root = path.resolve(here, "..");
    const paths = writeReport(report, out ? path.resolve(out) : defaultReportPath(root, startedAt), previous);
    console.log(
      `\nfigures written to ${path.relative(process.cwd(), paths.json)} and ${path.relative(process.cwd(), paths.markdown)}`,
    );
  }
  if (previous || !write) console.log(`\n${toMarkdown(report, previous)}`);
}
