#!/usr/bin/env node
// `npm run chaos [-- --json] [-- --only <row,...>]`: the bounded fault suite of the process
// runtime. It starts its own devnet in a temporary project, puts one fault at a time on it, and
// judges each row from the chain's events, the aggregator's journal and the process table.
// Prints a table (or `--json`), exits 1 when a row fails, 2 on bad usage. Leaves nothing running,
// Ctrl-C included. Build first (`npm run build`): it drives the built CLI.
import { existsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { root } from "./lib/avsctl.mjs";
import { heal, startSuiteDevnet, stopSuiteDevnet } from "./lib/chaos-devnet.mjs";
import {
  avsctl,
  countByHash,
  killProjectProcesses,
  liveChildren,
  liveProjects,
  verdictEvents,
} from "./lib/chaos-env.mjs";
import { rowFuzz } from "./lib/chaos-fuzz.mjs";
import { renderTable } from "./lib/chaos-report.mjs";
import { newRow, rowAggregatorKill, rowL2Kill, rowOneAttester, rowTwoAttesters } from "./lib/chaos-rows.mjs";
import { rowClientTimeouts, rowsValidation } from "./lib/chaos-rows-misbehave.mjs";
import { rowSigintUp } from "./lib/chaos-sigint.mjs";

// Order matters: the faults that may leave the devnet damaged (a wiped L2) come last.
const ROWS = [
  { ids: ["sigint-up"], own: true, run: () => rowSigintUp() },
  { ids: ["validation-garbage", "validation-slow", "validation-500"], run: (ctx) => rowsValidation(ctx) },
  { ids: ["hostile-input"], run: (ctx) => rowFuzz(ctx) },
  { ids: ["attester-1-of-3"], run: (ctx) => rowOneAttester(ctx) },
  { ids: ["attesters-2-of-3"], run: (ctx) => rowTwoAttesters(ctx) },
  { ids: ["client-timeouts"], run: (ctx) => rowClientTimeouts(ctx) },
  { ids: ["aggregator-kill"], run: (ctx) => rowAggregatorKill(ctx) },
  { ids: ["l2-kill"], run: (ctx) => rowL2Kill(ctx) },
];
const ALL_IDS = ROWS.flatMap((r) => r.ids);

function usage(message) {
  console.error(`${message}\nusage: npm run chaos -- [--json] [--only <${ALL_IDS.join("|")},...>]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const json = argv.includes("--json");
let only = null;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--json") continue;
  if (argv[i] === "--only" && argv[i + 1]) {
    only = argv[++i].split(",").filter(Boolean);
    const unknown = only.filter((id) => !ALL_IDS.includes(id));
    if (unknown.length > 0) usage(`unknown row ${unknown.join(", ")}`);
    continue;
  }
  usage(`unknown argument ${argv[i]}`);
}
if (!existsSync(path.join(root, "dist", "cli", "main.js"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(4);
}

const say = (line) => {
  if (!json) console.log(line);
  else process.stderr.write(`${line}\n`);
};

let ctx;
let stopping = false;
/** Whatever happens, nothing of the suite outlives it: its devnet, and any project a row made. */
async function cleanup() {
  // an interrupted `up` cleans after itself first; `down` then finds what is left
  const exits = [...liveChildren].map((child) => new Promise((r) => child.once("close", r)));
  for (const child of liveChildren) child.kill("SIGINT");
  await Promise.race([Promise.all(exits), sleep(30_000, undefined, { ref: false })]);
  for (const child of liveChildren) child.kill("SIGKILL");
  const r = ctx ? await stopSuiteDevnet(ctx) : { left: [] };
  ctx = undefined;
  for (const project of [...liveProjects]) {
    await avsctl(project.dir, ["devnet", "down", "--volumes", "--json"], { timeoutMs: 60_000 });
    killProjectProcesses(project.dir);
    project.remove();
  }
  return r;
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (stopping) {
      // a second interrupt: no more waiting, but still nothing left behind
      for (const child of liveChildren) child.kill("SIGKILL");
      for (const project of liveProjects) killProjectProcesses(project.dir);
      process.exit(130);
    }
    stopping = true;
    say(`\n${sig}: stopping the suite's devnet ...`);
    cleanup().finally(() => process.exit(130));
  });
}

const started = Date.now();
const rows = [];
const wanted = (ids) => !only || ids.some((id) => only.includes(id));
const keep = (r) => !only || only.includes(r.id);

/**
 * The whole chain once more, past the rows' own block ranges: every verdict on it must be of a
 * task the suite sent, and no task may have two.
 */
async function ledgerCheck(ctx) {
  let events;
  try {
    events = await verdictEvents(ctx.state, 0);
  } catch (error) {
    return { pass: false, error: String(error?.message ?? error) };
  }
  const unknown = events.filter((e) => !ctx.known.has(e.taskHash)).map((e) => e.taskNumber);
  const repeated = [...countByHash(events)].filter(([, n]) => n > 1).map(([h]) => h);
  return { pass: unknown.length === 0 && repeated.length === 0, verdicts: events.length, unknown, repeated };
}

let ledger = null;

/** One group of rows, timed; a row that throws is a failed row saying where. */
async function runGroup(group, arg) {
  say(`chaos: ${group.ids.join(", ")} ...`);
  const t0 = Date.now();
  let result;
  try {
    result = [await group.run(arg)].flat();
  } catch (error) {
    const where = String(error?.stack ?? error)
      .split("\n")
      .slice(0, 4)
      .join(" | ");
    result = group.ids.map((id) => {
      const r = newRow(id, id);
      r.notes.push(`the row crashed: ${where}`);
      return r;
    });
  }
  for (const r of result) r.ms = Date.now() - t0;
  rows.push(...result.filter(keep));
}

try {
  for (const group of ROWS.filter((g) => g.own && wanted(g.ids))) {
    if (!stopping) await runGroup(group);
  }
  const shared = ROWS.filter((g) => !g.own && wanted(g.ids));
  if (shared.length > 0 && !stopping) {
    say("chaos: starting the suite's devnet (process runtime) ...");
    ctx = await startSuiteDevnet();
    if (ctx.startError) {
      for (const g of shared)
        for (const id of g.ids.filter((i) => !only || only.includes(i))) {
          const r = newRow(id, id);
          r.notes.push(`not run: ${ctx.startError}`);
          rows.push(r);
        }
    } else {
      for (const group of shared) {
        if (stopping) break;
        const steps = await heal(ctx);
        if (steps.length > 0)
          say(`chaos: the devnet was unhealthy before ${group.ids[0]}: ${steps.join("; ")}`);
        await runGroup(group, ctx);
      }
      if (!stopping) ledger = await ledgerCheck(ctx);
    }
  }
} finally {
  if (!stopping) {
    const { left, down } = await cleanup();
    if (left.length > 0) {
      const r = newRow("cleanup", "devnet down leaves nothing running");
      if (down) r.notes.push(down);
      r.notes.push(
        `killed what down left: ${left.map((p) => `${p.component || p.command} (${p.pid})`).join(", ")}`,
      );
      rows.push(r);
    }
  }
}

// interrupted: the signal handler reports nothing and exits 130 once everything is stopped
if (!stopping) {
  const pass = rows.length > 0 && rows.every((r) => r.pass) && ledger?.pass !== false;
  const report = { pass, durationMs: Date.now() - started, rows, ledger };
  if (json) console.log(JSON.stringify(report, null, 2));
  else console.log(renderTable(report));
  process.exitCode = pass ? 0 : 1;
}
