#!/usr/bin/env node
// Node runtime benchmark (issue 5): one aggregator and three attesters as separate processes on
// an automining anvil with our contracts. Prints sendTask -> TaskSubmitted latency (p50, p99)
// at a light load, then sustained throughput for a bounded run at a target rate, and the
// resident memory of every node. Targets: p50 <= 250 ms, p99 <= 1 s, >= 100 tasks/s for 30 s,
// each node < 200 MB. Prints figures; never asserts. Stops everything it started.
//
// Env: BENCH_SECONDS (default 30), BENCH_RATE (tasks/s offered, default 110), BENCH_LATENCY_TASKS
// (default 200), BENCH_NODE_FLAGS (node flags of the nodes, default --max-semi-space-size=4),
// BENCH_NODE_DIST (a compiled tree other than dist/), BENCH_PROFILE (a directory for CPU profiles),
// BENCH_BLOCK_TIME (seconds between blocks; default 0: anvil mines a block per transaction).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// BENCH_NODE_DIST: another compiled tree of src/ (e.g. a test build) instead of dist/.
const dist = process.env.BENCH_NODE_DIST
  ? path.resolve(process.env.BENCH_NODE_DIST)
  : path.join(root, "dist");
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const rate = Number(process.env.BENCH_RATE ?? 110);
const latencyTasks = Number(process.env.BENCH_LATENCY_TASKS ?? 200);

if (
  !existsSync(path.join(dist, "node", "entry.js")) ||
  !existsSync(path.join(root, "artifacts", "AttestationCenter.json"))
) {
  console.log("building (npm run build) ...");
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0 && !existsSync(path.join(dist, "node", "entry.js"))) {
    console.error("build failed; run `npm run build` first");
    process.exit(1);
  }
}

const imp = (p) => import(pathToFileURL(path.join(dist, p)).href);
const ethers = await import("ethers");
const { startAnvil } = await imp("chain/anvil.js");
const { ANVIL_DEV_PRIVATE_KEYS } = await imp("chain/dev-keys.js");
const { initBls, blsSecretFromSeed, blsPublicKey } = await imp("crypto/bls.js");
const { fastTaskHash } = await imp("node/abi-fast.js");
const { machineInfo } = await import("./lib/bench-report.mjs");
const artifact = (name) => JSON.parse(readFileSync(path.join(root, "artifacts", `${name}.json`), "utf8"));

const cleanup = [];
const children = [];
process.on("exit", () => {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {}
  }
});

function pct(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process (MB), from /proc (Linux; no `ps` spawned per sample). */
function rssMb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function startValidationService() {
  // Behaves like an Express service: parses JSON only with a JSON content type.
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const ok = /^application\/json/.test(req.headers["content-type"] ?? "") && body.includes("proofOfTask");
      const text = JSON.stringify({ data: ok, error: false, message: null });
      res
        .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
        .end(text);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` }),
    ),
  );
}

function spawnNode(role, options, env) {
  // BENCH_PROFILE=<dir>: V8 CPU profiles of every node, written when it stops.
  const prof = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // Node flags of every node process (BENCH_NODE_FLAGS, "" for none). The default caps V8's
  // young generation, which otherwise grows to ~100 MB under load; the devnet runs nodes so.
  const flags = process.env.BENCH_NODE_FLAGS ?? "--max-semi-space-size=4";
  prof.push(...flags.split(/\s+/).filter(Boolean));
  const child = spawn(
    process.execPath,
    [...prof, path.join(dist, "node", "entry.js"), role, JSON.stringify(options)],
    {
      env: { PATH: process.env.PATH, NODE_NO_WARNINGS: "1", ...env },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    },
  );
  children.push(child);
  const waiters = [];
  let buffer = "";
  const warnings = new Map();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if (rec.level === "warn" || rec.level === "error")
        warnings.set(rec.msg, (warnings.get(rec.msg) ?? 0) + 1);
      for (const w of [...waiters]) if (w.pred(rec)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(rec);
    }
  });
  return {
    child,
    warnings,
    waitFor: (pred, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${role}: timed out waiting`)), ms);
        waiters.push({
          pred,
          resolve: (r) => {
            clearTimeout(t);
            resolve(r);
          },
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
        setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {}
        }, 5000).unref();
      }),
  };
}

async function main() {
  const machine = machineInfo();
  await initBls();
  // BENCH_BLOCK_TIME=<seconds>: interval mining instead of a block per transaction (automine).
  const blockTime = Number(process.env.BENCH_BLOCK_TIME ?? 0);
  const chain = await startAnvil({ chainId: 31338, ...(blockTime > 0 ? { blockTime } : {}) });
  cleanup.push(() => chain.stop());
  const network = ethers.Network.from(31338);
  const provider = new ethers.JsonRpcProvider(chain.rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 100,
  });
  cleanup.push(() => provider.destroy());
  const keys = ANVIL_DEV_PRIVATE_KEYS;
  const deployer = new ethers.NonceManager(new ethers.Wallet(keys[0], provider));
  const from = await deployer.getAddress();
  const nonce = await provider.getTransactionCount(from);
  const at = (n) => ethers.getCreateAddress({ from, nonce: nonce + n });
  const deploy = async (name, args) => {
    const a = artifact(name);
    const c = await new ethers.ContractFactory(a.abi, a.bytecode, deployer).deploy(...args);
    await c.waitForDeployment();
    return c.getAddress();
  };
  const obls = await deploy("OBLS", [from, at(1), at(2)]);
  const ac = await deploy("AttestationCenter", [obls, from, from, from, at(2)]);
  await deploy("InternalTaskHandler", [ac, obls]);
  const center = new ethers.Contract(ac, artifact("AttestationCenter").abi, deployer);
  await (
    await center.getFunction(
      "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
    )("bench", [2n ** 64n - 1n, 0n, 0n, 0n, 0n, 0n, [], 0n])
  ).wait();
  const operators = [
    { key: keys[1], power: 0n },
    { key: keys[5], power: 0n },
    { key: keys[2], power: 10n ** 18n },
    { key: keys[3], power: 10n ** 18n },
    { key: keys[4], power: 10n ** 18n },
  ];
  for (const op of operators) {
    const address = new ethers.Wallet(op.key).address;
    await (
      await center.getFunction("registerToNetwork")(
        address,
        op.power,
        [...blsPublicKey(blsSecretFromSeed(op.key))],
        address,
      )
    ).wait();
  }

  const services = await Promise.all([0, 1, 2].map(() => startValidationService()));
  cleanup.push(() =>
    Promise.all(
      services.map(
        (s) =>
          new Promise((r) => {
            s.server.close(() => r());
            s.server.closeAllConnections();
          }),
      ),
    ),
  );
  const env = (key) => ({
    PRIVATE_KEY: key,
    L2_RPC: chain.rpcUrl,
    L2_CHAIN: "31338",
    ATTESTATION_CENTER_ADDRESS: ac,
  });
  const aggregator = spawnNode("aggregator", { jsonRpcPort: 0 }, env(keys[1]));
  const nodes = [aggregator];
  cleanup.push(() => Promise.all(nodes.map((n) => n.stop())));
  const ready = await aggregator.waitFor(
    (r) => r.msg === "aggregator ready" || r.msg === "node failed to start",
  );
  if (ready.msg !== "aggregator ready") throw new Error(JSON.stringify(ready));
  const rpcUrl = ready.rpcUrl;
  const joined = [keys[2], keys[3], keys[4]].map((k) =>
    aggregator.waitFor((r) => r.msg === "attester connected" && r.peer === new ethers.Wallet(k).address),
  );
  [keys[2], keys[3], keys[4]].forEach((k, i) => {
    nodes.push(spawnNode("attester", { aggregatorUrl: rpcUrl, avsWebapi: services[i].url }, env(k)));
  });
  await Promise.all(joined);
  console.log(
    `idle RSS: ${nodes.map((n, i) => `${i === 0 ? "aggregator" : `attester-${i}`} ${rssMb(n.child.pid).toFixed(0)} MB`).join(", ")}`,
  );

  // TaskSubmitted events arrive by WebSocket subscription, so latency is not rounded to a poll period.
  const iface = new ethers.Interface([
    "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  ]);
  // The client's own CPU counts in the figures: proofOfTask (unique per task here) is read
  // straight from the event's data (second word: its offset) instead of a full ABI decode and
  // a task hash per event.
  const proofOfTaskOf = (data) => {
    const at = Number.parseInt(data.slice(2 + 64 + 48, 2 + 128), 16) * 2 + 2;
    const len = Number.parseInt(data.slice(at + 48, at + 64), 16);
    return Buffer.from(data.slice(at + 64, at + 64 + len * 2), "hex").toString("utf8");
  };
  const seenAt = new Map();
  let lastTx;
  const sentAt = new Map();
  const latencies = [];
  let phase = "latency";
  const phaseLatencies = { latency: [], load: [] };
  const ws = new WebSocket(chain.rpcUrl.replace(/^http/, "ws"));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    const log = msg.params?.result;
    if (!log?.topics) return;
    const now = performance.now();
    const hash = proofOfTaskOf(log.data);
    seenAt.set(hash, now);
    lastTx = log.transactionHash;
    const t0 = sentAt.get(hash);
    if (t0 !== undefined) {
      latencies.push(now - t0);
      phaseLatencies[phase].push(now - t0);
    }
  };
  ws.send(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_subscribe",
      params: ["logs", { address: ac, topics: [iface.getEvent("TaskSubmitted").topicHash] }],
    }),
  );
  cleanup.push(() => ws.close());
  await new Promise((r) => setTimeout(r, 200));

  const performer = new ethers.Wallet(keys[5]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  cleanup.push(() => agent.destroy());
  let seq = 0;
  let refused = 0;
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        rpcUrl,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(JSON.parse(text)));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  async function sendOne() {
    const i = seq++;
    const proofOfTask = `bench-${i}-${Date.now()}`;
    const data = ethers.hexlify(ethers.toUtf8Bytes(`price ${i}`));
    const hash = fastTaskHash({ proofOfTask, data, performer: performer.address, taskDefinitionId: 1 });
    const signature = performer.signingKey.sign(hash).serialized;
    sentAt.set(proofOfTask, performance.now());
    const r = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: i,
        method: "sendTask",
        params: [proofOfTask, data, 1, performer.address, signature],
      }),
    );
    if (typeof r.result !== "string") {
      refused++;
      sentAt.delete(proofOfTask);
    }
    return hash;
  }

  // Phase 1: latency at a light load (20 tasks/s).
  const t1 = performance.now();
  const p1 = [];
  for (let i = 0; i < latencyTasks; i++) {
    p1.push(sendOne());
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(p1);
  const drain1 = Date.now() + 10_000;
  while (phaseLatencies.latency.length < latencyTasks - refused && Date.now() < drain1)
    await new Promise((r) => setTimeout(r, 50));
  const light = [...phaseLatencies.latency].sort((a, b) => a - b);
  console.log(
    `latency (${light.length}/${latencyTasks} tasks at 20/s, ${((performance.now() - t1) / 1000).toFixed(1)} s): p50 ${pct(light, 50).toFixed(0)} ms, p99 ${pct(light, 99).toFixed(0)} ms, max ${light[light.length - 1]?.toFixed(0)} ms`,
  );

  // Phase 2: sustained load at `rate` tasks/s for `seconds`.
  phase = "load";
  const rss = new Map(nodes.map((_n, i) => [i === 0 ? "aggregator" : `attester-${i}`, 0]));
  let maxPending = 0;
  let memoryAtPeak;
  const sampler = setInterval(() => {
    fetch(`${rpcUrl}/health`)
      .then((r) => r.json())
      .then((h) => {
        if (h.pendingTasks >= maxPending) memoryAtPeak = h.memoryMb;
        maxPending = Math.max(maxPending, h.pendingTasks);
      })
      .catch(() => undefined);
    nodes.forEach((n, i) => {
      const name = i === 0 ? "aggregator" : `attester-${i}`;
      rss.set(name, Math.max(rss.get(name), rssMb(n.child.pid)));
    });
  }, 1000);
  const processes = [
    ...nodes.map((n, i) => [i === 0 ? "aggregator" : `attester-${i}`, n.child.pid]),
    ["anvil", chain.pid],
    ["bench client", process.pid],
  ];
  const cpuBefore = processes.map(([, pid]) => cpuSeconds(pid));
  const startSeen = seenAt.size;
  const loadStart = performance.now();
  const inflight = new Set();
  let offered = 0;
  const interval = 1000 / rate;
  let next = performance.now();
  while (performance.now() - loadStart < seconds * 1000) {
    const now = performance.now();
    while (next <= now && inflight.size < 2000) {
      const p = sendOne().finally(() => inflight.delete(p));
      inflight.add(p);
      offered++;
      next += interval;
    }
    await new Promise((r) => setTimeout(r, Math.max(1, next - performance.now())));
  }
  const loadEnd = performance.now();
  const submittedDuring = seenAt.size - startSeen;
  const cpuShare = processes.map(([name, pid], i) => [
    name,
    (cpuSeconds(pid) - cpuBefore[i]) / ((loadEnd - loadStart) / 1000),
  ]);
  await Promise.all(inflight);
  // Drain until every accepted task landed, or nothing landed for 15 s (a backlog on a busy
  // machine can take a while; its CPU is counted in the per-task figures below).
  let progressAt = Date.now();
  let landed = phaseLatencies.load.length;
  while (phaseLatencies.load.length < offered - refused && Date.now() - progressAt < 15_000) {
    await new Promise((r) => setTimeout(r, 100));
    if (phaseLatencies.load.length > landed) {
      landed = phaseLatencies.load.length;
      progressAt = Date.now();
    }
  }
  clearInterval(sampler);
  const loaded = [...phaseLatencies.load].sort((a, b) => a - b);
  // CPU time per task, which contention from other work on the machine changes far less than
  // throughput: what each process used from the start of the load until its tasks drained, over
  // the tasks of the load that reached the chain (a backlog's work is counted with its tasks).
  const cpuMsPerTask = Object.fromEntries(
    processes.map(([name, pid], i) => [
      name,
      ((cpuSeconds(pid) - cpuBefore[i]) * 1000) / Math.max(1, phaseLatencies.load.length),
    ]),
  );
  cpuMsPerTask.total = Object.values(cpuMsPerTask).reduce((a, b) => a + b, 0);
  const throughput = submittedDuring / ((loadEnd - loadStart) / 1000);
  console.log(
    `throughput: offered ${offered} tasks at ${rate}/s for ${seconds} s, refused ${refused}; ${submittedDuring} TaskSubmitted during the run = ${throughput.toFixed(1)} tasks/s; ${loaded.length} in total after draining`,
  );
  console.log(
    `latency under load: p50 ${pct(loaded, 50).toFixed(0)} ms, p99 ${pct(loaded, 99).toFixed(0)} ms, max ${loaded[loaded.length - 1]?.toFixed(0)} ms`,
  );
  console.log(
    `most tasks pending in the aggregator at once: ${maxPending} (memory then, MB: ${JSON.stringify(memoryAtPeak)})`,
  );
  const gasUsed = lastTx ? (await provider.getTransactionReceipt(lastTx))?.gasUsed : undefined;
  console.log(`gas of one submitTask: ${gasUsed}`);
  console.log(`CPU during the run (cores): ${cpuShare.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
  console.log(
    `CPU per task (ms): ${Object.entries(cpuMsPerTask)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ")}; load average at the start ${machine.loadavg.join(" / ")} on ${machine.cpus} cores`,
  );
  console.log(`peak RSS: ${[...rss].map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(", ")}`);
  for (const [i, n] of nodes.entries()) {
    if (n.warnings.size > 0)
      console.log(
        `warnings of ${i === 0 ? "aggregator" : `attester-${i}`}: ${JSON.stringify(Object.fromEntries(n.warnings))}`,
      );
  }
  const targets = {
    p50: pct(light, 50) <= 250,
    p99: pct(light, 99) <= 1000,
    throughput: throughput >= 100,
    rss: [...rss.values()].every((v) => v < 200),
  };
  console.log(
    `targets: ${Object.entries(targets)
      .map(([k, v]) => `${k} ${v ? "met" : "NOT met"}`)
      .join(", ")}`,
  );
  console.log(
    JSON.stringify({
      bench: "node",
      latency: { tasks: light.length, p50Ms: pct(light, 50), p99Ms: pct(light, 99) },
      load: {
        seconds,
        offeredPerSec: rate,
        offered,
        refused,
        submitted: submittedDuring,
        throughputPerSec: throughput,
        p50Ms: pct(loaded, 50),
        p99Ms: pct(loaded, 99),
      },
      rssMb: Object.fromEntries(rss),
      cpuCores: Object.fromEntries(cpuShare),
      cpuMsPerTask,
      machine,
    }),
  );
}

try {
  await main();
} catch (error) {
  console.error(`bench-node failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  for (const c of cleanup.reverse()) {
    try {
      await c();
    } catch {}
  }
}
