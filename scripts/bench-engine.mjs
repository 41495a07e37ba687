#!/usr/bin/env node
// Task engine benchmark (issue 15), on a process devnet: a 5-node workflow (a REST read of a
// price feed, a contract read on the L2, custom code, a branch, custom code) with a manual
// trigger.
// - trigger-to-execution latency: BENCH_ENGINE_LATENCY (default 20) blocking triggers one after
//   another; the time from the trigger request to the recorded execution (p50, p95), and the
//   engine's own queued-to-recorded time;
// - executions per second, attested: BENCH_ENGINE_EXECUTIONS (default 60) triggers, 10 in
//   flight, from the first trigger until every execution is recorded, and until every one has
//   its verdict on-chain (each one an AVS task: pinned, sent, re-run by the attesters).
// Bounded: at most BENCH_ENGINE_TIMEOUT_S (default 240) seconds of load. Prints a table, then one
// JSON line; never asserts. Removes the devnet it started, also on Ctrl-C.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { root, runAvsctl } from "./lib/avsctl.mjs";

const latencyRuns = Math.max(1, Math.min(200, Number(process.env.BENCH_ENGINE_LATENCY ?? 20)));
const executions = Math.max(1, Math.min(1000, Number(process.env.BENCH_ENGINE_EXECUTIONS ?? 60)));
const timeoutMs = Math.max(10, Number(process.env.BENCH_ENGINE_TIMEOUT_S ?? 240)) * 1000;
const IN_FLIGHT = 10;

if (!existsSync(path.join(root, "dist", "cli", "main.js"))) {
  console.log("building (npm run build) ...");
  spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
const imp = (p) => import(pathToFileURL(path.join(root, "dist", p)).href);
// the engine client's own request and sign-in shapes, so the bench loads the API as `avsctl
// workflow` does; loaded before any figure is taken
const { engineFetch, signInBody } = await imp("task-engine/client.js");

const dir = mkdtempSync(path.join(os.tmpdir(), "bench-engine-"));
writeFileSync(path.join(dir, "avsctl.config.json"), JSON.stringify({ name: `bench-engine-${process.pid}` }));
let feed;

const cli = (args, ms) => runAvsctl(dir, args, ms);

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await feed?.stop().catch(() => {});
  const r = await cli(["devnet", "down", "--volumes", "--json"], 120_000);
  if (r.code !== 0) console.error(`devnet down failed: ${r.stdout}${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
}
process.on("SIGINT", () => {
  console.error("\ninterrupted: removing the devnet this benchmark started ...");
  cleanup().finally(() => process.exit(130));
});

async function api(url, method, route, token, body) {
  const res = await engineFetch(url, method, route, { token, body, signal: AbortSignal.timeout(90_000) });
  const text = await res.text();
  if (res.status >= 300 && !(res.status === 202))
    throw new Error(`${method} ${route}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

function workflow(feedUrl, attestationCenter) {
  return {
    name: "bench-5-nodes",
    trigger: { id: "t", name: "trig", type: "manual", config: { data: { threshold: 1000 } } },
    nodes: [
      {
        id: "p",
        name: "price",
        type: "restApi",
        config: { url: `${feedUrl}/price?symbol=ETHUSDT`, method: "GET" },
      },
      {
        id: "c",
        name: "center",
        type: "contractRead",
        config: {
          contractAddress: attestationCenter,
          contractAbi: ["function numOfTaskDefinitions() view returns (uint16)"],
          methodCalls: [{ methodName: "numOfTaskDefinitions", methodParams: [] }],
        },
      },
      {
        id: "k",
        name: "calc",
        type: "customCode",
        config: {
          lang: "javascript",
          source:
            "return { p: Number(price.data.price), ok: Number(price.data.price) > trig.data.threshold };",
        },
      },
      {
        id: "b",
        name: "check",
        type: "branch",
        config: {
          conditions: [
            { id: "hi", type: "if", expression: "calc.data.ok" },
            { id: "lo", type: "else" },
          ],
        },
      },
      {
        id: "r",
        name: "report",
        type: "customCode",
        config: { lang: "javascript", source: "return calc.data.p;" },
      },
    ],
    edges: [
      { id: "e1", source: "t", target: "p" },
      { id: "e2", source: "t", target: "c" },
      { id: "e3", source: "p", target: "k" },
      { id: "e4", source: "c", target: "k" },
      { id: "e5", source: "k", target: "b" },
      { id: "e6", source: "b.hi", target: "r" },
    ],
  };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Every execution of the task (all pages). */
async function allExecutions(url, token, id) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(
      url,
      "GET",
      `/workflows/${id}/executions?limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      token,
    );
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

async function main() {
  console.log("starting a process devnet ...");
  const up = await cli(["devnet", "up", "--runtime", "process", "--engine", "--json"]);
  if (up.code !== 0) throw new Error(`devnet up failed: ${up.stdout}${up.stderr}`);
  const state = JSON.parse(up.stdout);
  if (!state.engine) throw new Error("the devnet runs no task engine");
  const url = state.engine.url;
  const { startPriceFeed } = await imp("devnet/samples/sample-services.js");
  const { Wallet } = await import("ethers");
  feed = await startPriceFeed({ price: "3000.00" });
  const owner = Wallet.createRandom();
  const now = Date.now();
  // signed for an hour, not the client's 10 minutes: BENCH_ENGINE_TIMEOUT_S may exceed those
  const signIn = await signInBody(owner, {
    chainId: state.engine.chainId,
    wallet: owner.address,
    issuedAt: now,
    expiredAt: now + 3_600_000,
  });
  const { token } = await api(url, "POST", "/auth:exchange", undefined, signIn);
  const task = await api(url, "POST", "/workflows", token, workflow(feed.url, state.l2[0].attestationCenter));
  const deadline = Date.now() + timeoutMs;

  // latency: blocking triggers one after another
  const roundTrips = [];
  const engineTimes = [];
  for (let i = 0; i < latencyRuns + 1 && Date.now() < deadline; i++) {
    const t0 = performance.now();
    const e = await api(url, "POST", `/workflows/${task.id}:trigger`, token, { isBlocking: true });
    const ms = performance.now() - t0;
    if (i === 0) continue; // warm-up
    if (e.status !== "success") throw new Error(`execution ${e.executionId}: ${e.status} ${e.error}`);
    roundTrips.push(ms);
    engineTimes.push(e.endAt - e.queuedAt);
  }

  // throughput: non-blocking triggers, IN_FLIGHT at a time, then wait for records and verdicts
  const before = new Set((await allExecutions(url, token, task.id)).map((e) => e.id));
  const started = performance.now();
  let next = 0;
  const ids = [];
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < executions && Date.now() < deadline) {
        next++;
        ids.push((await api(url, "POST", `/workflows/${task.id}:trigger`, token, {})).executionId);
      }
    }),
  );
  const triggeredMs = performance.now() - started;
  let recordedMs = null;
  let attestedMs = null;
  let last = [];
  while (Date.now() < deadline) {
    last = (await allExecutions(url, token, task.id)).filter((e) => !before.has(e.id));
    const recorded = last.filter((e) => e.status !== "queued" && e.status !== "running");
    if (recordedMs === null && recorded.length >= ids.length) recordedMs = performance.now() - started;
    if (last.filter((e) => e.verdict !== null).length >= ids.length) {
      attestedMs = performance.now() - started;
      break;
    }
    await sleep(250);
  }
  const approved = last.filter((e) => e.verdict === "approved").length;
  const failed = last.filter((e) => e.status !== "success").length;
  const figures = {
    workflowNodes: 5,
    latencyRuns: roundTrips.length,
    triggerToExecutionMs: { p50: pct(roundTrips, 50), p95: pct(roundTrips, 95) },
    engineQueuedToRecordedMs: { p50: pct(engineTimes, 50), p95: pct(engineTimes, 95) },
    executions: ids.length,
    inFlight: IN_FLIGHT,
    triggerMs: triggeredMs,
    recordedPerSecond: recordedMs === null ? null : ids.length / (recordedMs / 1000),
    attestedPerSecond: attestedMs === null ? null : ids.length / (attestedMs / 1000),
    approved,
    notSuccessful: failed,
    timedOut: attestedMs === null,
  };
  const f = (x, d = 1) => (x === null || x === undefined ? "n/a" : Number(x).toFixed(d));
  console.log(
    `trigger -> execution recorded (blocking, ${figures.latencyRuns} runs): p50 ${f(figures.triggerToExecutionMs.p50)} ms, p95 ${f(figures.triggerToExecutionMs.p95)} ms`,
  );
  console.log(
    `  of which queued -> recorded in the engine: p50 ${f(figures.engineQueuedToRecordedMs.p50)} ms, p95 ${f(figures.engineQueuedToRecordedMs.p95)} ms`,
  );
  console.log(
    `${ids.length} executions, ${IN_FLIGHT} triggers in flight: ${f(figures.recordedPerSecond)} recorded/s, ${f(figures.attestedPerSecond)} attested/s (verdict on-chain; ${approved} approved)`,
  );
  if (figures.timedOut) console.log(`  timed out after ${timeoutMs / 1000} s before every verdict landed`);
  console.log(JSON.stringify({ bench: "engine", ...figures }));
}

main()
  .catch((error) => {
    console.error(`bench-engine: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
