#!/usr/bin/env node
// Devnet benchmark (issue 6): time from `avsctl devnet up` to a healthy devnet for the process
// runtime, Docker with the devnet image cached, Docker cold (devnet image removed, base image
// kept) and Docker with the base image removed too; and the peak memory of the whole devnet
// (sum of RSS of its processes, or of its containers' memory as `docker stats` counts it) idle and
// under a short bounded task load (`avsctl task send --count 100 --concurrency 10`), and for the
// process runtime the CPU per task of that load (the devnet's processes, and the load client).
// Targets on this machine: <= 8 s, <= 15 s, <= 90 s. Prints figures (a table, then one JSON
// line); never asserts. Removes every devnet it started, also on Ctrl-C.
//
// Env: BENCH_DEVNET_RUNS (process and cached runs, median reported; default 1),
// BENCH_DEVNET_SKIP_COLD=1 (keep the images: no cold runs), BENCH_DEVNET_TASKS (default 100).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { root, runAvsctl } from "./lib/avsctl.mjs";

const runs = Math.max(1, Number(process.env.BENCH_DEVNET_RUNS ?? 1));
const skipCold = process.env.BENCH_DEVNET_SKIP_COLD === "1";
const taskCount = Number(process.env.BENCH_DEVNET_TASKS ?? 100);
const TARGETS = { process: 8_000, dockerCached: 15_000, dockerCold: 90_000 };

if (!existsSync(path.join(root, "dist", "cli", "main.js"))) {
  console.log("building (npm run build) ...");
  spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
}
const imp = (p) => import(pathToFileURL(path.join(root, "dist", p)).href);

const projects = [];
let stopping = false;

function newProject(label) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-devnet-${label}-`));
  const name = `bench-${label}-${process.pid}`;
  writeFileSync(path.join(dir, "avsctl.config.json"), JSON.stringify({ name }));
  const project = { dir, name, label: name, up: false };
  projects.push(project);
  return project;
}

async function down(project) {
  if (!existsSync(project.dir)) return;
  const r = await runAvsctl(project.dir, ["devnet", "down", "--volumes", "--json"], 120_000);
  if (r.code !== 0) console.error(`devnet down of ${project.name} failed: ${r.stdout}${r.stderr}`);
  rmSync(project.dir, { recursive: true, force: true });
  project.up = false;
}

async function cleanupAll() {
  for (const p of projects) if (existsSync(p.dir)) await down(p);
}

process.on("SIGINT", () => {
  if (stopping) return;
  stopping = true;
  console.error("\ninterrupted: removing the devnets this benchmark started ...");
  cleanupAll().finally(() => process.exit(130));
});

// ---------- memory ----------

/**
 * Sum of VmRSS (bytes) of live processes whose environment names this devnet project, and of
 * their PSS (shared pages, such as the node binary, divided among the processes sharing them).
 */
function processRss(project) {
  const needle = `AVSCTL_DEVNET_PROJECT=${project}`;
  let total = 0;
  let pss = 0;
  let count = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(needle)) continue;
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (m) {
        total += Number(m[1]) * 1024;
        count++;
      }
      const p = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/smaps_rollup`, "utf8"));
      if (p) pss += Number(p[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { bytes: total, pss, count };
}

/** CPU seconds (user + system) used so far by the live processes of this devnet project. */
function processCpu(project) {
  const needle = `AVSCTL_DEVNET_PROJECT=${project}`;
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(needle)) continue;
      const fields = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

/** CPU seconds used by this process's children that have exited (the load's `task send`). */
function exitedChildrenCpu() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

let dockerClient;
async function docker() {
  if (!dockerClient) {
    const { default: Docker } = await import("dockerode");
    dockerClient = new Docker();
  }
  return dockerClient;
}

/** Memory of one container as `docker stats` shows it: usage less the inactive page cache. */
function containerMemory(stats) {
  const m = stats.memory_stats ?? {};
  const s = m.stats ?? {};
  const cache = s.total_inactive_file ?? s.inactive_file ?? s.cache ?? 0;
  return Math.max(0, (m.usage ?? 0) - cache);
}

async function containerMem(project) {
  const d = await docker();
  const list = await d.listContainers({
    filters: JSON.stringify({ label: [`dev.avsctl.project=${project}`], status: ["running"] }),
  });
  const each = await Promise.all(
    list.map(async (c) =>
      containerMemory(await d.getContainer(c.Id).stats({ stream: false, "one-shot": true })),
    ),
  );
  return { bytes: each.reduce((a, b) => a + b, 0), count: list.length };
}

const memOf = (runtime, project) => (runtime === "docker" ? containerMem(project) : processRss(project));

/** Peak of the devnet's memory over `ms` (or until `until.done`), sampled every 200 ms. */
async function peakMemory(runtime, project, ms, until) {
  let peak = { bytes: 0, count: 0 };
  const deadline = Date.now() + ms;
  do {
    const m = await memOf(runtime, project);
    if (m.bytes > peak.bytes) peak = m;
    if (until?.done) break;
    await sleep(200);
  } while (Date.now() < deadline);
  return peak;
}

/** Peak memory while a bounded task load runs against the devnet. */
async function memoryUnderLoad(runtime, project) {
  const state = { done: false };
  // CPU per task of the process runtime: the devnet's processes and the load client, over the load.
  const cpuBefore =
    runtime === "process" ? { devnet: processCpu(project.label), client: exitedChildrenCpu() } : undefined;
  const load = runAvsctl(project.dir, [
    "task",
    "send",
    "--count",
    String(taskCount),
    "--concurrency",
    "10",
    "--wait",
    "--timeout",
    "60",
    "--json",
  ]).then((r) => {
    state.done = true;
    return r;
  });
  const peak = await peakMemory(runtime, project.label, 180_000, state);
  const r = await load;
  const cpu = cpuBefore && {
    devnet: processCpu(project.label) - cpuBefore.devnet,
    client: exitedChildrenCpu() - cpuBefore.client,
  };
  let summary = { error: `task send exited ${r.code}: ${(r.stdout || r.stderr).slice(0, 300)}` };
  try {
    const body = JSON.parse(r.stdout);
    if (body.sent !== undefined)
      summary = {
        sent: body.sent,
        approved: body.approved,
        rejected: body.rejected,
        timedOut: body.timedOut,
        throughputPerSec: body.throughputPerSec,
        p50Ms: body.latencyMs?.p50,
        ...(cpu && body.sent > 0
          ? {
              cpuMsPerTask: {
                devnet: (cpu.devnet * 1000) / body.sent,
                loadClient: (cpu.client * 1000) / body.sent,
                total: ((cpu.devnet + cpu.client) * 1000) / body.sent,
              },
            }
          : {}),
      };
  } catch {}
  return { peak, summary };
}

// ---------- runs ----------

async function up(project, runtime) {
  const r = await runAvsctl(project.dir, ["devnet", "up", "--runtime", runtime, "--json"]);
  if (r.code !== 0)
    throw new Error(`devnet up (${runtime}) failed (${r.code}): ${r.stdout}${r.stderr.slice(-2000)}`);
  project.up = true;
  const state = JSON.parse(r.stdout);
  // The devnet's own name (its processes' and containers' label), which may differ from the
  // config's name (the CLI can make it unique per project directory).
  project.label = state.name ?? project.name;
  return { upMs: Math.round(r.ms), startupMs: state.startupMs };
}

async function measure(label, runtime, { memory }) {
  const project = newProject(label);
  try {
    const t = await up(project, runtime);
    if (!memory) return t;
    await sleep(2_000); // let the nodes settle after start-up
    const idle = await peakMemory(runtime, project.label, 3_000);
    const load = await memoryUnderLoad(runtime, project);
    return {
      ...t,
      components: idle.count,
      idleMemBytes: idle.bytes,
      loadMemBytes: Math.max(load.peak.bytes, idle.bytes),
      ...(idle.pss === undefined
        ? {}
        : { idlePssBytes: idle.pss, loadPssBytes: Math.max(load.peak.pss ?? 0, idle.pss) }),
      load: load.summary,
    };
  } finally {
    await down(project);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function repeated(label, runtime) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure(label, runtime, { memory: i === 0 }));
  const first = results[0];
  return {
    ...first,
    upMs: median(results.map((r) => r.upMs)),
    startupMs: median(results.map((r) => r.startupMs)),
    runs: results.map((r) => r.upMs),
  };
}

async function removeImage(tag) {
  const d = await docker();
  try {
    await d.getImage(tag).remove();
    return { removed: true };
  } catch (error) {
    if (error.statusCode === 404) return { removed: true };
    return { removed: false, why: error.json?.message ?? error.message };
  }
}

const results = {};
const notes = [];
try {
  results.process = await repeated("proc", "process");

  const { pingDocker } = await imp("devnet/docker-engine.js");
  const ping = await pingDocker(3_000);
  if (!ping.ok) {
    notes.push(`Docker runs skipped: ${ping.reason}`);
  } else {
    const { devnetImageTag } = await imp("devnet/image.js");
    const { localBaseImageTag } = await imp("devnet/runtime/images.js");
    const devnetImage = devnetImageTag();
    const baseImage = localBaseImageTag();
    if (!skipCold) {
      const r = await removeImage(devnetImage);
      if (r.removed) results.dockerCold = await measure("cold", "docker", { memory: false });
      else notes.push(`Docker cold skipped: could not remove ${devnetImage} (${r.why})`);
    }
    // Cached: build the image now if the package changed since (another build of dist/, say),
    // so that the timed start finds it; a rebuild during the run is reported, not hidden.
    const { ensureDevnetImage } = await imp("devnet/image.js");
    await ensureDevnetImage(await docker(), {});
    const imageId = async () => (await (await docker()).getImage(devnetImage).inspect()).Id;
    const before = await imageId();
    results.dockerCached = await repeated("cached", "docker");
    if ((await imageId()) !== before)
      notes.push(
        "the devnet image was rebuilt during the cached run (dist/ changed): its figure includes a build",
      );
    if (!skipCold) {
      const a = await removeImage(devnetImage);
      const b = a.removed ? await removeImage(baseImage) : a;
      if (a.removed && b.removed)
        results.dockerColdNoBase = await measure("nobase", "docker", { memory: false });
      else notes.push(`Docker cold without base skipped: could not remove an image (${b.why ?? a.why})`);
    }
  }
} catch (error) {
  notes.push(`error: ${error.message}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}

// ---------- report ----------
const s = (ms) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
const mb = (b, pss) =>
  b === undefined
    ? "-"
    : `${Math.round(b / 2 ** 20)} MB${pss === undefined ? "" : ` (PSS ${Math.round(pss / 2 ** 20)})`}`;
const rows = [
  ["process runtime", results.process, TARGETS.process],
  ["Docker, images cached", results.dockerCached, TARGETS.dockerCached],
  ["Docker cold (devnet image removed)", results.dockerCold, TARGETS.dockerCold],
  ["Docker cold (base image removed too)", results.dockerColdNoBase, undefined],
];
const table = [
  ["run", "up -> healthy", "target", "startupMs", "mem idle", "mem under load", "components"],
  ...rows.map(([name, r, target]) => [
    name,
    s(r?.upMs),
    target === undefined
      ? "-"
      : `<= ${target / 1000} s${r?.upMs === undefined ? "" : r.upMs <= target ? " ok" : " MISSED"}`,
    r?.startupMs === undefined ? "-" : String(r.startupMs),
    mb(r?.idleMemBytes, r?.idlePssBytes),
    mb(r?.loadMemBytes, r?.loadPssBytes),
    r?.components === undefined ? "-" : String(r.components),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
for (const [name, r] of rows) {
  if (r?.load) console.log(`load (${name}): ${JSON.stringify(r.load)}`);
}
for (const note of notes) console.log(`note: ${note}`);
console.log(
  JSON.stringify({
    bench: "devnet",
    cpus: os.cpus().length,
    targetsMs: TARGETS,
    ...results,
    notes,
  }),
);
