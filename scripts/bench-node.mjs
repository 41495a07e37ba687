#!/usr/bin/env node
// Node runtime benchmark (issues 5 and 18): one aggregator and three attesters as separate
// processes on an automining anvil with our contracts, fed over HTTP by this process. It runs
// rows, each a bounded window at a fixed offered rate whose tasks are built and signed before the
// window starts, so the load generator spends its time in the window on sending alone:
// - latency: 20 tasks/s, BENCH_LATENCY_TASKS tasks: sendTask -> TaskSubmitted p50 and p99;
// - load: BENCH_RATE tasks/s (default 100) for BENCH_SECONDS: latency at 100/s and the CPU time
//   per task of every process;
// - sustained: BENCH_SUSTAINED_RATE tasks/s (default 210) for BENCH_SECONDS: how many tasks per
//   second reached the chain (TaskSubmitted events, not sends), how many were refused busy. 5%
//   above the 200/s target: the tasks still on their way at the window's end (the row's latency,
//   ~0.3 s of them) are not counted, so 200/s offered cannot show 200/s landed;
// - overload: twice the capacity (the most that reached the chain per second in the load and
//   sustained rows) for BENCH_OVERLOAD_SECONDS: p99 of the accepted tasks,
//   the refusals (OVERLOADED -32003), how fast a refusal came back, and whether any refused
//   task reached the chain anyway.
// For every row: the load generator's own CPU and event-loop delay and how far its sends fell
// behind schedule, the CPU that other work on the machine used meanwhile, and the load average.
// Also the resident memory of every node. Prints figures; never asserts. Stops everything it
// started.
//
// Env: BENCH_SECONDS (default 30), BENCH_RATE (the load row's tasks/s, default 100),
// BENCH_SUSTAINED_RATE (default 210), BENCH_OVERLOAD_SECONDS (default the smaller of 15 and
// BENCH_SECONDS), BENCH_OVERLOAD_RATE (tasks/s offered in the overload row instead of twice the
// capacity), BENCH_LATENCY_TASKS (default 200), BENCH_ROWS (the rows to run, default
// "latency,load,sustained,overload"), BENCH_NODE_FLAGS (node flags of the nodes, default the
// devnet's: NODE_MEMORY in src/devnet/up/launch.ts), BENCH_NODE_DIST (a compiled tree other than
// dist/), BENCH_PROFILE (a directory for CPU profiles), BENCH_BLOCK_TIME (seconds between blocks;
// default 0: anvil mines a block per transaction).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// BENCH_NODE_DIST: another compiled tree of src/ (e.g. a test build) instead of dist/.
const dist = process.env.BENCH_NODE_DIST
  ? path.resolve(process.env.BENCH_NODE_DIST)
  : path.join(root, "dist");

function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) {
    console.error(`${name} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return n;
}
const seconds = envNumber("BENCH_SECONDS", 30);
const rate = envNumber("BENCH_RATE", 100);
const sustainedRate = envNumber("BENCH_SUSTAINED_RATE", 210);
const overloadSeconds = envNumber("BENCH_OVERLOAD_SECONDS", Math.min(15, seconds));
const overloadRate = envNumber("BENCH_OVERLOAD_RATE", 0) || undefined;
const latencyTasks = Math.round(envNumber("BENCH_LATENCY_TASKS", 200));
const ROWS = ["latency", "load", "sustained", "overload"];
const rowsWanted = new Set(
  (process.env.BENCH_ROWS ?? ROWS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const r of rowsWanted) {
  if (!ROWS.includes(r)) {
    console.error(`BENCH_ROWS: unknown row "${r}"; known: ${ROWS.join(", ")}`);
    process.exit(2);
  }
}
/** Requests of one row in flight at once at most; beyond it the generator waits (and says so). */
const MAX_INFLIGHT = 2000;
/** OVERLOADED, the aggregator's "busy, retry after" refusal (docs/protocol.md). */
const OVERLOADED = -32003;

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
const { fastTaskHash } = await imp("chain/abi-fast.js");
const { NODE_MEMORY } = await imp("devnet/up/launch.js");
const { machineInfo, speedProbe } = await import("./lib/bench-report.mjs");
const artifact = (name) => JSON.parse(readFileSync(path.join(root, "artifacts", `${name}.json`), "utf8"));

const cleanup = [];
const children = [];
/** Processes started without a group of their own (anvil): killed by pid on a hard exit. */
const loosePids = [];
process.on("exit", () => {
  for (const c of children) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {}
  }
  for (const pid of loosePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});
// Ctrl-C or a kill: leave through "exit" above, which stops everything this bench started.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`bench-node: ${signal}, stopping what it started`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const byNumber = (a, b) => a - b;

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

/** CPU seconds the whole machine has been busy (all cores, not idle nor waiting on I/O). */
function machineBusySeconds() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: guest time is already in user
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3] - f[4]) / 100;
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

const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

/**
 * The attesters' validation services, in a process of their own so that their work (three
 * requests per task) is neither in the load generator's CPU figure nor in its event loop. Each
 * behaves like an Express service: parses JSON only with a JSON content type. The process exits
 * when its stdin closes, so it cannot outlive this one.
 */
const SERVICES_SOURCE = `
import http from "node:http";
const urls = [];
for (let i = 0; i < Number(process.argv[1]); i++) {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const ok = /^application\\/json/.test(req.headers["content-type"] ?? "") && body.includes("proofOfTask");
      const text = JSON.stringify({ data: ok, error: false, message: null });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  urls.push("http://127.0.0.1:" + server.address().port);
}
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.stdout.write(JSON.stringify({ urls }) + "\\n");
`;

function startValidationServices(count) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", SERVICES_SOURCE, String(count)], {
    stdio: ["pipe", "pipe", "inherit"],
    detached: true,
  });
  children.push(child);
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.stdin.end();
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 3000).unref();
    });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("validation services did not start in 20 s")), 20_000);
    child.once("exit", (code) => reject(new Error(`validation services exited (${code})`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({ pid: child.pid, urls: JSON.parse(out.slice(0, nl)).urls, stop });
    });
  });
}

let nodesSpawned = 0;

function spawnNode(role, options, env, logDir) {
  // BENCH_PROFILE=<dir>: V8 CPU profiles of every node, written when it stops.
  const prof = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // Node flags of every node process (BENCH_NODE_FLAGS, "" for none). The default is what the
  // devnet runs its nodes with (a small young generation, one V8 worker thread).
  const flags = process.env.BENCH_NODE_FLAGS ?? NODE_MEMORY.NODE_OPTIONS;
  prof.push(...flags.split(/\s+/).filter(Boolean));
  // Its log lines go to a file, as the devnet's process runtime writes them, and are read only
  // while the bench waits for one: reading and parsing every line as it came would add the
  // bench's own CPU to every task's figure (about 15 lines a task).
  const logPath = path.join(logDir, `${role}-${++nodesSpawned}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [...prof, path.join(dist, "node", "entry.js"), role, JSON.stringify(options)],
    {
      env: { PATH: process.env.PATH, NODE_NO_WARNINGS: "1", ...env },
      stdio: ["ignore", fd, "inherit"],
      detached: true,
    },
  );
  closeSync(fd);
  children.push(child);
  const records = () =>
    readFileSync(logPath, "utf8")
      .split("\n")
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      });
  return {
    child,
    /** How many times each warning or error was logged, by message. */
    warnings: () => {
      const counts = new Map();
      for (const rec of records())
        if (rec.level === "warn" || rec.level === "error")
          counts.set(rec.msg, (counts.get(rec.msg) ?? 0) + 1);
      return counts;
    },
    /** The first log record (since the start) that `pred` accepts. */
    waitFor: async (pred, ms = 60_000) => {
      const until = Date.now() + ms;
      for (;;) {
        const hit = records().find(pred);
        if (hit) return hit;
        if (Date.now() > until) throw new Error(`${role}: timed out waiting`);
        await sleep(50);
      }
    },
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
  // alone it says how fast the machine was (npm run bench takes its own probe around all benches)
  const machine = { ...machineInfo(), speedProbeMs: { start: speedProbe() } };
  await initBls();
  // BENCH_BLOCK_TIME=<seconds>: interval mining instead of a block per transaction (automine).
  const blockTime = Number(process.env.BENCH_BLOCK_TIME ?? 0);
  const chain = await startAnvil({ chainId: 31338, ...(blockTime > 0 ? { blockTime } : {}) });
  cleanup.push(() => chain.stop());
  loosePids.push(chain.pid);
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

  const services = await startValidationServices(3);
  cleanup.push(() => services.stop());
  const env = (key) => ({
    PRIVATE_KEY: key,
    L2_RPC: chain.rpcUrl,
    L2_CHAIN: "31338",
    ATTESTATION_CENTER_ADDRESS: ac,
  });
  // The nodes' files: their logs, and a journal file, as the devnet gives its aggregator (an
  // in-memory one keeps every task's row).
  const workDir = mkdtempSync(path.join(os.tmpdir(), "avsctl-bench-nodes-"));
  cleanup.push(() => rmSync(workDir, { recursive: true, force: true }));
  const journalPath = path.join(workDir, "aggregator.db");
  const aggregator = spawnNode("aggregator", { jsonRpcPort: 0, journalPath }, env(keys[1]), workDir);
  const nodes = [aggregator];
  cleanup.push(() => Promise.all(nodes.map((n) => n.stop())));
  const ready = await aggregator.waitFor(
    (r) => r.msg === "aggregator ready" || r.msg === "node failed to start",
  );
  if (ready.msg !== "aggregator ready") throw new Error(JSON.stringify(ready));
  const rpcUrl = ready.rpcUrl;
  const attesterKeys = [keys[2], keys[3], keys[4]];
  const joined = attesterKeys.map((k) =>
    aggregator.waitFor((r) => r.msg === "attester connected" && r.peer === new ethers.Wallet(k).address),
  );
  attesterKeys.forEach((k, i) => {
    nodes.push(
      spawnNode("attester", { aggregatorUrl: rpcUrl, avsWebapi: services.urls[i] }, env(k), workDir),
    );
  });
  await Promise.all(joined);
  const nodeName = (i) => (i === 0 ? "aggregator" : `attester-${i}`);
  console.log(
    `idle RSS: ${nodes.map((n, i) => `${nodeName(i)} ${rssMb(n.child.pid).toFixed(0)} MB`).join(", ")}`,
  );

  // Every task sent, by its proofOfTask (unique per task): its row, when it was sent, what the
  // aggregator answered, when its TaskSubmitted arrived.
  const entries = new Map();
  let strayEvents = 0;
  let lastTx;
  // TaskSubmitted events arrive by WebSocket subscription, so latency is not rounded to a poll period.
  const iface = new ethers.Interface([
    "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  ]);
  // The client's own CPU counts in the figures: proofOfTask is read straight from the event's
  // data (second word: its offset) instead of a full ABI decode and a task hash per event.
  const proofOfTaskOf = (data) => {
    const at = Number.parseInt(data.slice(2 + 64 + 48, 2 + 128), 16) * 2 + 2;
    const len = Number.parseInt(data.slice(at + 48, at + 64), 16);
    return Buffer.from(data.slice(at + 64, at + 64 + len * 2), "hex").toString("utf8");
  };
  // attestersIds' length: the word at the offset the fourth word gives
  const signersOf = (data) => {
    const at = Number.parseInt(data.slice(2 + 192 + 48, 2 + 256), 16) * 2 + 2;
    return Number.parseInt(data.slice(at + 48, at + 64), 16);
  };
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
    const e = entries.get(proofOfTaskOf(log.data));
    lastTx = log.transactionHash;
    if (!e) strayEvents++;
    else if (e.landedAt !== undefined) e.row.duplicates++;
    else {
      e.landedAt = now;
      e.signers = signersOf(log.data);
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
  await sleep(200);

  const performer = new ethers.Wallet(keys[5]);
  // As many sockets as requests in flight: a request never queues in this client, so an answer's
  // round trip is the aggregator's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_INFLIGHT });
  cleanup.push(() => agent.destroy());
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
          res.on("end", () => {
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: not JSON`));
            }
          });
          res.on("error", reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("no answer in 30 s")));
      req.on("error", reject);
      req.end(body);
    });

  /** `count` sendTask bodies of row `name`, hashed and signed by the performer ahead of time. */
  function buildTasks(name, count) {
    const stamp = Date.now();
    const tasks = new Array(count);
    for (let i = 0; i < count; i++) {
      const proofOfTask = `bench-${name}-${i}-${stamp}`;
      const data = ethers.hexlify(ethers.toUtf8Bytes(`price ${i}`));
      const hash = fastTaskHash({ proofOfTask, data, performer: performer.address, taskDefinitionId: 1 });
      const signature = performer.signingKey.sign(hash).serialized;
      tasks[i] = {
        proofOfTask,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: i,
          method: "sendTask",
          params: [proofOfTask, data, 1, performer.address, signature],
        }),
      };
    }
    return tasks;
  }

  function sendOne(row, task, scheduledAt) {
    const t0 = performance.now();
    const e = { row, t0, status: "sent", rtt: Number.NaN, landedAt: undefined };
    entries.set(task.proofOfTask, e);
    row.entries.push(e);
    row.lag.push(t0 - scheduledAt);
    const fail = (kind) => {
      e.status = "error";
      row.errorKinds[kind] = (row.errorKinds[kind] ?? 0) + 1;
    };
    return post(task.body).then(
      (r) => {
        e.rtt = performance.now() - t0;
        if (typeof r.result === "string") e.status = "accepted";
        else if (r.error?.code === OVERLOADED) e.status = "refused";
        else fail(String(r.error?.data?.reason ?? r.error?.code ?? "no result"));
      },
      (error) => {
        e.rtt = performance.now() - t0;
        fail(String(error?.code ?? error?.message ?? error));
      },
    );
  }

  async function health() {
    try {
      const r = await fetch(`${rpcUrl}/health`, { signal: AbortSignal.timeout(5000) });
      return await r.json();
    } catch {
      return undefined;
    }
  }

  /** Waits (at most 30 s) until the aggregator holds no task, so a row does not start with the last one's. */
  async function waitIdle() {
    const until = Date.now() + 30_000;
    let h = await health();
    while (h?.pendingTasks > 0 && Date.now() < until) {
      await sleep(200);
      h = await health();
    }
    return h?.pendingTasks ?? Number.NaN;
  }

  const processes = [
    ...nodes.map((n, i) => [nodeName(i), n.child.pid]),
    ["anvil", chain.pid],
    ["validation services", services.pid],
    ["bench client", process.pid],
  ];

  /**
   * One row: `count` tasks offered at `offeredPerSec`, then drained. Returns its figures, and
   * the CPU of every process over the window (cores) and per task that reached the chain.
   */
  async function runRow(name, offeredPerSec, count) {
    const presignStart = performance.now();
    const tasks = buildTasks(name, count);
    const presignMs = performance.now() - presignStart;
    const pendingAtStart = await waitIdle();
    const row = { name, entries: [], lag: [], errorKinds: {}, duplicates: 0 };

    // Peak of pending tasks (and the aggregator's memory then) and of every node's RSS, per second.
    let maxPending = 0;
    let memoryAtPeak;
    const rss = new Map(nodes.map((_n, i) => [nodeName(i), 0]));
    const sampler = setInterval(() => {
      void health().then((h) => {
        if (!h) return;
        if (h.pendingTasks >= maxPending) memoryAtPeak = h.memoryMb;
        maxPending = Math.max(maxPending, h.pendingTasks);
      });
      nodes.forEach((n, i) => {
        rss.set(nodeName(i), Math.max(rss.get(nodeName(i)), rssMb(n.child.pid)));
      });
    }, 1000);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    const load1Start = load1();
    const cpuBefore = processes.map(([, pid]) => cpuSeconds(pid));
    const busyBefore = machineBusySeconds();
    // blocks mined in the row: with automine each costs anvil a state root over all storage
    const blockBefore = await provider.getBlockNumber();
    loop.enable();
    const interval = 1000 / offeredPerSec;
    const start = performance.now();
    const nominalEnd = start + count * interval;
    // Bounded even when the generator falls far behind: then it stops sending at twice the
    // window (plus 5 s) and says how many it did not send.
    const hardStop = start + 2 * count * interval + 5000;
    const inflight = new Set();
    let sent = 0;
    let waitedOnInflight = 0;
    let maxInflight = 0;
    while (sent < count && performance.now() < hardStop) {
      const now = performance.now();
      while (sent < count && start + sent * interval <= now) {
        if (inflight.size >= MAX_INFLIGHT) {
          waitedOnInflight++;
          break;
        }
        const p = sendOne(row, tasks[sent], start + sent * interval).finally(() => inflight.delete(p));
        inflight.add(p);
        maxInflight = Math.max(maxInflight, inflight.size);
        sent++;
      }
      await sleep(Math.max(1, start + sent * interval - performance.now()));
    }
    if (performance.now() < nominalEnd) await sleep(nominalEnd - performance.now());
    const end = performance.now();
    loop.disable();
    const windowS = (end - start) / 1000;
    const cpuWindow = processes.map(([, pid], i) => cpuSeconds(pid) - cpuBefore[i]);
    const busyWindow = machineBusySeconds() - busyBefore;
    const load1End = load1();

    // Drain: every answer (bounded by the request timeout), then until every accepted task
    // landed, nothing landed for 15 s, or 90 s passed (a backlog on a busy machine can take a
    // while; its CPU is counted in the per-task figures).
    await Promise.all(inflight);
    const drainUntil = Date.now() + 90_000;
    const landedCount = () => row.entries.filter((e) => e.landedAt !== undefined).length;
    const acceptedCount = () => row.entries.filter((e) => e.status === "accepted").length;
    let landed = landedCount();
    let progressAt = Date.now();
    while (landed < acceptedCount() && Date.now() - progressAt < 15_000 && Date.now() < drainUntil) {
      await sleep(100);
      const now = landedCount();
      if (now > landed) {
        landed = now;
        progressAt = Date.now();
      }
    }
    clearInterval(sampler);
    const cpuDrained = processes.map(([, pid], i) => cpuSeconds(pid) - cpuBefore[i]);
    const blockAfter = await provider.getBlockNumber();
    const blocks = blockAfter - blockBefore;
    const emptyBlocks = await countEmptyBlocks(blockBefore + 1, blockAfter);

    const of = (status) => row.entries.filter((e) => e.status === status);
    const accepted = of("accepted");
    const refused = of("refused");
    const errors = of("error");
    const acceptedLatency = accepted
      .filter((e) => e.landedAt !== undefined)
      .map((e) => e.landedAt - e.t0)
      .sort(byNumber);
    const refusalRtt = refused.map((e) => e.rtt).sort(byNumber);
    const acceptRtt = accepted.map((e) => e.rtt).sort(byNumber);
    const lag = row.lag.sort(byNumber);
    const inWindow = row.entries.filter((e) => e.landedAt !== undefined && e.landedAt <= end).length;
    const landedTotal = landedCount();
    // The slowest stretch of the window (5 s slices, 1 s ones in a window under 10 s), after the
    // first slice in which the first tasks are still on their way: a mean hides a collapse.
    const sliceMs = end - start >= 10_000 ? 5000 : 1000;
    const perSlice = new Array(Math.floor((end - start) / sliceMs)).fill(0);
    for (const e of row.entries) {
      const k = Math.floor((e.landedAt - start) / sliceMs);
      if (k >= 0 && k < perSlice.length) perSlice[k]++;
    }
    const slowestSlice = perSlice.length > 1 ? Math.min(...perSlice.slice(1)) : Number.NaN;
    const ourCores = cpuWindow.reduce((a, b) => a + b, 0) / windowS;
    const clientIndex = processes.length - 1;
    const cpuCores = Object.fromEntries(processes.map(([n], i) => [n, cpuWindow[i] / windowS]));
    const cpuMsPerTask = Object.fromEntries(
      processes.map(([n], i) => [n, (cpuDrained[i] * 1000) / Math.max(1, landedTotal)]),
    );
    cpuMsPerTask.total = Object.values(cpuMsPerTask).reduce((a, b) => a + b, 0);
    const figures = {
      seconds: windowS,
      offeredPerSec,
      offered: sent,
      notSent: count - sent,
      sentPerSec: sent / windowS,
      accepted: accepted.length,
      refused: refused.length,
      errors: errors.length,
      submitted: inWindow,
      throughputPerSec: inWindow / windowS,
      slowestSlicePerSec: slowestSlice / (sliceMs / 1000),
      landed: landedTotal,
      acceptedNotLanded: accepted.filter((e) => e.landedAt === undefined).length,
      refusedOnChain: refused.filter((e) => e.landedAt !== undefined).length,
      duplicatesOnChain: row.duplicates,
      // landed with every attester signing (3), not only a quorum: less gas, each one credited
      allSignedShare:
        landedTotal > 0
          ? row.entries.filter((e) => e.signers === attesterKeys.length).length / landedTotal
          : null,
      p50Ms: pct(acceptedLatency, 50),
      p99Ms: pct(acceptedLatency, 99),
      maxMs: acceptedLatency[acceptedLatency.length - 1] ?? Number.NaN,
      acceptRttP99Ms: pct(acceptRtt, 99),
      refusalRttP50Ms: pct(refusalRtt, 50),
      refusalRttP99Ms: pct(refusalRtt, 99),
      maxPending,
      pendingAtStart,
      blocks,
      emptyBlocks,
      client: {
        presignMs,
        cpuCores: cpuWindow[clientIndex] / windowS,
        cpuMsPerOffered: (cpuWindow[clientIndex] * 1000) / Math.max(1, sent),
        loopDelayP99Ms: loop.percentile(99) / 1e6,
        sendLagP99Ms: pct(lag, 99),
        maxInflight,
        waitedOnInflight,
      },
      otherCores: busyWindow / windowS - ourCores,
      loadavg1m: { start: load1Start, end: load1End },
    };
    return { figures, cpuCores, cpuMsPerTask, rss, memoryAtPeak, errorKinds: row.errorKinds };
  }

  // Blocks without a transaction: anvil's automine mines some under load, each a state root.
  async function countEmptyBlocks(from, to) {
    let empty = 0;
    for (let n = from; n <= to; n += 100) {
      const batch = [];
      for (let k = n; k <= Math.min(to, n + 99); k++)
        batch.push(provider.send("eth_getBlockTransactionCountByNumber", [`0x${k.toString(16)}`]));
      for (const c of await Promise.all(batch)) if (Number(c) === 0) empty++;
    }
    return empty;
  }

  const fmtMs = (v) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : "–");
  function describe(name, r) {
    const f = r.figures;
    console.log(
      `${name}: offered ${f.offered} at ${f.offeredPerSec.toFixed(0)}/s (sent ${f.sentPerSec.toFixed(1)}/s) for ${f.seconds.toFixed(1)} s: accepted ${f.accepted}, refused busy ${f.refused}, other errors ${f.errors}${f.errors ? ` ${JSON.stringify(r.errorKinds)}` : ""}; on-chain ${f.submitted} in the window = ${f.throughputPerSec.toFixed(1)} tasks/s (slowest slice ${f.slowestSlicePerSec.toFixed(1)}/s), ${f.landed} after draining (accepted not landed ${f.acceptedNotLanded}, refused on-chain ${f.refusedOnChain}, duplicates ${f.duplicatesOnChain}; every attester signing ${f.allSignedShare === null ? "-" : `${(100 * f.allSignedShare).toFixed(0)}%`}); ${f.blocks} blocks, ${f.emptyBlocks} of them empty (${(f.landed / Math.max(1, f.blocks - f.emptyBlocks)).toFixed(1)} tasks a non-empty block)`,
    );
    console.log(
      `  accepted tasks: p50 ${fmtMs(f.p50Ms)}, p99 ${fmtMs(f.p99Ms)}, max ${fmtMs(f.maxMs)}; sendTask answer p99: accepted ${fmtMs(f.acceptRttP99Ms)}, refused ${fmtMs(f.refusalRttP99Ms)} (p50 ${fmtMs(f.refusalRttP50Ms)}); most pending at once ${f.maxPending} (memory then, MB: ${JSON.stringify(r.memoryAtPeak)})`,
    );
    console.log(
      `  load generator: ${f.client.cpuCores.toFixed(2)} cores, ${f.client.cpuMsPerOffered.toFixed(2)} ms CPU per task sent, event-loop delay p99 ${f.client.loopDelayP99Ms.toFixed(1)} ms, sends behind schedule p99 ${f.client.sendLagP99Ms.toFixed(1)} ms, at most ${f.client.maxInflight} requests in flight, ${f.notSent} not sent (signing ahead: ${(f.client.presignMs / 1000).toFixed(1)} s); other work on the machine ${f.otherCores.toFixed(2)} cores; load average ${f.loadavg1m.start} -> ${f.loadavg1m.end}`,
    );
  }

  const results = {};
  if (rowsWanted.has("latency")) {
    const r = await runRow("latency", 20, latencyTasks);
    results.latency = r;
    describe("latency at 20/s", r);
  }
  if (rowsWanted.has("load")) {
    const r = await runRow("load", rate, Math.round(rate * seconds));
    results.load = r;
    describe(`load at ${rate}/s`, r);
  }
  if (rowsWanted.has("sustained")) {
    const r = await runRow("sustained", sustainedRate, Math.round(sustainedRate * seconds));
    results.sustained = r;
    describe(`sustained at ${sustainedRate}/s`, r);
  }
  let capacity;
  if (rowsWanted.has("overload")) {
    // Twice the capacity: the most the chain took per second in the load and sustained rows
    // (the machine is shared, so a row taken under more contention can show less). When neither
    // row was saturated (something refused, or less reached the chain than was offered) that
    // figure is only a lower bound of the capacity and the overload less than twice: said below.
    const saturated = (f) => f.refused > 0 || f.throughputPerSec < 0.95 * f.offeredPerSec;
    const measured = [
      ["load", results.load],
      ["sustained", results.sustained],
    ].filter(([, r]) => r);
    const best = measured.reduce(
      (a, b) => (!a || b[1].figures.throughputPerSec > a[1].figures.throughputPerSec ? b : a),
      undefined,
    );
    capacity = overloadRate
      ? { perSec: overloadRate / 2, basis: "BENCH_OVERLOAD_RATE" }
      : best
        ? {
            perSec: best[1].figures.throughputPerSec,
            basis: `${best[0]} row`,
            lowerBound: !measured.some(([, r]) => saturated(r.figures)),
          }
        : { perSec: sustainedRate / 2, basis: "not measured: BENCH_SUSTAINED_RATE / 2" };
    const offered = Math.max(1, Math.round(2 * capacity.perSec));
    console.log(
      `overload: offering ${offered}/s, twice ${capacity.perSec.toFixed(1)}/s (${capacity.basis}${capacity.lowerBound ? ", which was not saturated: only a lower bound of the capacity" : ""})`,
    );
    const r = await runRow("overload", offered, Math.round(offered * overloadSeconds));
    results.overload = r;
    describe(`overload at ${offered}/s`, r);
    console.log(
      `  offered ${(r.figures.offeredPerSec / r.figures.throughputPerSec).toFixed(2)} times what reached the chain in this row; CPU (cores): ${Object.entries(
        r.cpuCores,
      )
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ")}`,
    );
  }

  const gasUsed = lastTx ? (await provider.getTransactionReceipt(lastTx))?.gasUsed : undefined;
  console.log(`gas of one submitTask: ${gasUsed}`);
  if (strayEvents > 0) console.log(`TaskSubmitted events of tasks this bench did not send: ${strayEvents}`);
  const primary = results.load ?? results.sustained;
  if (primary) {
    console.log(
      `CPU during the ${primary === results.load ? "load" : "sustained"} row (cores): ${Object.entries(
        primary.cpuCores,
      )
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ")}`,
    );
    console.log(
      `CPU per task (ms): ${Object.entries(primary.cpuMsPerTask)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ")}; load average at the start ${machine.loadavg.join(" / ")} on ${machine.cpus} cores`,
    );
    console.log(`peak RSS: ${[...primary.rss].map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(", ")}`);
  }
  // The memory target holds for every row, the overload row (the most tasks held at once) included.
  const peakRss = new Map();
  for (const r of Object.values(results))
    for (const [k, v] of r.rss ?? []) peakRss.set(k, Math.max(peakRss.get(k) ?? 0, v));
  if (peakRss.size > 0)
    console.log(
      `peak RSS over all rows: ${[...peakRss].map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(", ")}`,
    );
  for (const [i, n] of nodes.entries()) {
    const warnings = n.warnings();
    if (warnings.size > 0)
      console.log(`warnings of ${nodeName(i)}: ${JSON.stringify(Object.fromEntries(warnings))}`);
  }

  // The rows side by side.
  const cols = [
    ["row", (name) => name],
    ["offered/s", (_n, f) => f.offeredPerSec.toFixed(0)],
    ["sent/s", (_n, f) => f.sentPerSec.toFixed(1)],
    ["accepted", (_n, f) => String(f.accepted)],
    ["refused", (_n, f) => String(f.refused)],
    ["errors", (_n, f) => String(f.errors)],
    ["chain/s", (_n, f) => f.throughputPerSec.toFixed(1)],
    ["slowest/s", (_n, f) => f.slowestSlicePerSec.toFixed(1)],
    ["p50 ms", (_n, f) => fmtMs(f.p50Ms).replace(" ms", "")],
    ["p99 ms", (_n, f) => fmtMs(f.p99Ms).replace(" ms", "")],
    ["refusal p99 ms", (_n, f) => fmtMs(f.refusalRttP99Ms).replace(" ms", "")],
    ["refused on-chain", (_n, f) => String(f.refusedOnChain)],
    ["client cores", (_n, f) => f.client.cpuCores.toFixed(2)],
    ["other cores", (_n, f) => f.otherCores.toFixed(2)],
    ["load 1m", (_n, f) => `${f.loadavg1m.start}->${f.loadavg1m.end}`],
  ];
  const table = [cols.map(([h]) => h)];
  for (const [name, r] of Object.entries(results)) table.push(cols.map(([, get]) => get(name, r.figures)));
  const widths = cols.map((_c, j) => Math.max(...table.map((row) => row[j].length)));
  console.log("");
  for (const row of table) console.log(row.map((c, j) => c.padStart(widths[j])).join("  "));
  console.log("");

  // Issue 18's targets beside the figures: information only, nothing fails on them.
  const met = (ok) => (ok ? "met" : "NOT met");
  const targets = [];
  const rss = [...peakRss.values()];
  if (results.load && rate === 100)
    targets.push(`p99 <= 500 ms at 100/s: ${met(results.load.figures.p99Ms <= 500)}`);
  if (results.sustained && sustainedRate >= 200 && seconds >= 30)
    targets.push(`>= 200/s sustained for 30 s: ${met(results.sustained.figures.throughputPerSec >= 200)}`);
  if (results.overload && capacity && !capacity.lowerBound)
    targets.push(`p99 of accepted <= 2 s under 2x overload: ${met(results.overload.figures.p99Ms <= 2000)}`);
  // The target names no rate: per task, a busier network costs less (larger batches and blocks).
  for (const [name, r] of [
    ["load", results.load],
    ["sustained", results.sustained],
  ]) {
    if (r?.cpuMsPerTask)
      targets.push(
        `CPU per task <= 7 ms in the ${name} row: ${met(r.cpuMsPerTask.total <= 7)} (${r.cpuMsPerTask.total.toFixed(2)})`,
      );
  }
  if (rss.length > 0) targets.push(`each node <= 120 MB: ${met(rss.every((v) => v <= 120))}`);
  if (targets.length > 0) console.log(`targets: ${targets.join(", ")}`);

  const rowJson = (r) => r && { ...r.figures, errorKinds: r.errorKinds };
  console.log(
    JSON.stringify({
      bench: "node",
      latency: results.latency && {
        tasks: results.latency.figures.landed,
        p50Ms: results.latency.figures.p50Ms,
        p99Ms: results.latency.figures.p99Ms,
      },
      load: rowJson(results.load),
      sustained: results.sustained && {
        ...rowJson(results.sustained),
        cpuCores: results.sustained.cpuCores,
        cpuMsPerTask: results.sustained.cpuMsPerTask,
      },
      overload: results.overload && {
        ...rowJson(results.overload),
        capacityPerSec: capacity.perSec,
        capacityBasis: capacity.basis,
        capacityIsLowerBound: capacity.lowerBound ? 1 : 0,
        // which process ran out of CPU while the excess was being refused
        cpuCores: results.overload.cpuCores,
        // how many times what the chain took in this very row was offered
        overloadFactor: results.overload.figures.offeredPerSec / results.overload.figures.throughputPerSec,
      },
      rssMb: primary && Object.fromEntries(primary.rss),
      rssMbAllRows: Object.fromEntries(peakRss),
      cpuCores: primary?.cpuCores,
      cpuMsPerTask: primary?.cpuMsPerTask,
      machine: { ...machine, speedProbeMs: { ...machine.speedProbeMs, end: speedProbe() } },
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
