/**
 * What the devnet end-to-end suites share: temp projects, a validation service of the test's
 * own on 127.0.0.1, an Othentic-style performer client written from docs/protocol.md (not avsctl's),
 * direct chain reads with ethers, and the leftover checks `down` is judged by.
 */

import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Docker from "dockerode";
import {
  AbiCoder,
  Contract,
  hexlify,
  Interface,
  JsonRpcProvider,
  keccak256,
  SigningKey,
  toUtf8Bytes,
} from "ethers";
import { rootHash } from "../../../src/devnet/plan.js";
import type { DevnetState } from "../../../src/devnet/state.js";
import { type CliResult, runCli } from "../../helpers/cli.js";
import type { LooseContract } from "../../helpers/contract.js";

export interface TempProject {
  dir: string;
  name: string;
  /** The devnet's name: the project's, then a hash of its directory (what labels its resources). */
  devnet: string;
  /** `avsctl <args>` in this project. */
  cli(args: string[], env?: Record<string, string | undefined>, timeoutMs?: number): Promise<CliResult>;
  remove(): void;
}

/** A directory with an avsctl.config.json naming a project unique to this run. */
export function tempProject(prefix: string): TempProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  writeFileSync(path.join(dir, "avsctl.config.json"), `${JSON.stringify({ name })}\n`);
  return {
    dir,
    name,
    devnet: `${name}-${rootHash(dir)}`,
    cli: (args, env, timeoutMs = 240_000) => runCli(args, { cwd: dir, env, timeoutMs }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ValidationServer {
  url: string;
  port: number;
  /** Bodies of every POST /task/validate received. */
  requests: Array<{ proofOfTask: string; data: string; taskDefinitionId: number; performer: string }>;
  /** What it answers (JS example shape `{"data": bool, "error": false, "message": null}`). */
  answer: boolean;
  stop(): Promise<void>;
}

/** A validation service like the user's own (say, under a debugger), bound to 127.0.0.1 only. */
export async function startValidationServer(): Promise<ValidationServer> {
  const sockets = new Set<net.Socket>();
  const state = { requests: [] as ValidationServer["requests"], answer: true };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/task/validate") {
        try {
          state.requests.push(JSON.parse(body));
        } catch {
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: state.answer, error: false, message: null }));
        return;
      }
      res.writeHead(req.url === "/health" ? 200 : 404).end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** The devnet state of docs/cli.md as a test reads it: the public JSON, no private bookkeeping. */
export type State = Omit<DevnetState, "internal">;

/** The keys every state has; `engine` is there only when the task engine runs (OPTIONAL_STATE_KEYS). */
export const STATE_KEYS = [
  "name",
  "runtime",
  "healthy",
  "l1",
  "l2",
  "aggregator",
  "attesters",
  "performer",
  "deployer",
  "services",
  "serviceRuntimes",
  "ipfs",
  "taskDefinitions",
  "startupMs",
].sort();

export const OPTIONAL_STATE_KEYS = ["engine"];

/** Every host URL the state reports (RPCs, metrics, services). */
export function stateUrls(s: State): string[] {
  return [
    s.l1.rpcUrl,
    ...s.l2.map((l) => l.rpcUrl),
    s.aggregator.rpcUrl,
    s.aggregator.metricsUrl,
    ...[s.services.execution, s.services.validation].filter((u): u is string => u !== null),
    ...(s.ipfs ? [s.ipfs.pinataUrl] : []),
    ...(s.engine ? [s.engine.url] : []),
  ];
}

/** Host ports the devnet itself published (an external service URL is not the devnet's). */
export function devnetPorts(s: State, external: string[] = []): number[] {
  return stateUrls(s)
    .filter((u) => !external.includes(u))
    .map((u) => Number(new URL(u).port));
}

const L1_ABI = [
  "function isOperatorRegistered(address) view returns (bool)",
  "function votingPower(address) view returns (uint256)",
  "function numOfActiveOperators() view returns (uint256)",
];
export const L2_ABI = [
  "function operatorsIdsByAddress(address) view returns (uint256)",
  "function votingPower(address) view returns (uint256)",
  "function numOfTaskDefinitions() view returns (uint16)",
  "function numOfActiveOperators() view returns (uint256)",
  "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskRejected(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskDefinitionCreated(uint16 taskDefinitionId, string name, uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedAttesterIds, uint256 maximumNumberOfAttesters)",
];

/** A provider that never batches or caches, so every read is a fresh call to the chain. */
export function provider(rpcUrl: string): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, undefined, { batchMaxCount: 1, staticNetwork: true, cacheTimeout: -1 });
}

/** What the chains say, read directly, for the assertions of the state test. */
export async function readChains(s: State) {
  const l1 = provider(s.l1.rpcUrl);
  const l2 = provider(s.l2[0]!.rpcUrl);
  try {
    const gov = new Contract(s.l1.avsGovernance, L1_ABI, l1) as LooseContract;
    const ac = new Contract(s.l2[0]!.attestationCenter, L2_ABI, l2) as LooseContract;
    const operators = [s.aggregator.address, s.performer.address, ...s.attesters.map((a) => a.address)];
    const created = await l2.getLogs({
      address: s.l2[0]!.attestationCenter,
      topics: [ac.interface.getEvent("TaskDefinitionCreated")!.topicHash],
      fromBlock: 0,
    });
    return {
      l1ChainId: Number((await l1.getNetwork()).chainId),
      l2ChainId: Number((await l2.getNetwork()).chainId),
      code: {
        avsGovernance: await l1.getCode(s.l1.avsGovernance),
        attestationCenter: await l2.getCode(s.l2[0]!.attestationCenter),
        obls: await l2.getCode(s.l2[0]!.obls),
        internalTaskHandler: await l2.getCode(s.l2[0]!.internalTaskHandler),
      },
      l1Registered: await Promise.all(operators.map((o) => gov.isOperatorRegistered(o) as Promise<boolean>)),
      l1VotingPower: await Promise.all(
        s.attesters.map(async (a) => ((await gov.votingPower(a.address)) as bigint).toString()),
      ),
      l2Ids: await Promise.all(
        [s.aggregator, ...s.attesters].map(async (o) => Number(await ac.operatorsIdsByAddress(o.address))),
      ),
      l2PerformerId: Number(await ac.operatorsIdsByAddress(s.performer.address)),
      l2VotingPower: await Promise.all(
        s.attesters.map(async (a) => ((await ac.votingPower(a.address)) as bigint).toString()),
      ),
      numOfTaskDefinitions: Number(await ac.numOfTaskDefinitions()),
      taskDefinitionsCreated: created.map((log) => {
        const parsed = ac.interface.parseLog(log)!;
        return { taskDefinitionId: Number(parsed.args.taskDefinitionId), name: parsed.args.name as string };
      }),
    };
  } finally {
    l1.destroy();
    l2.destroy();
  }
}

/**
 * A performer as Othentic's price-oracle example behaves: the task hash of docs/protocol.md
 * signed raw (no EIP-191 prefix), posted as the JSON-RPC batch ethers' JsonRpcProvider sends.
 */
export async function sendOthenticTask(
  aggregatorUrl: string,
  performerKey: string,
  proofOfTask: string,
  taskDefinitionId = 1,
): Promise<{ chainIdResult: unknown; sendTask: { result?: unknown; error?: unknown } }> {
  const key = new SigningKey(performerKey);
  const performer = (await import("ethers")).computeAddress(key.publicKey);
  const data = hexlify(toUtf8Bytes(JSON.stringify({ price: "4321.5", at: Date.now() })));
  const taskHash = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "bytes", "address", "uint16"],
      [proofOfTask, data, performer, taskDefinitionId],
    ),
  );
  const signature = key.sign(taskHash).serialized;
  const res = await fetch(aggregatorUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      {
        jsonrpc: "2.0",
        id: 2,
        method: "sendTask",
        params: [proofOfTask, data, taskDefinitionId, performer, signature],
      },
    ]),
    signal: AbortSignal.timeout(15_000),
  });
  const replies = (await res.json()) as Array<{ id: number; result?: unknown; error?: unknown }>;
  if (!Array.isArray(replies))
    throw new Error(`a batch must be answered by an array: ${JSON.stringify(replies)}`);
  return {
    chainIdResult: replies.find((r) => r.id === 1)?.result,
    sendTask: replies.find((r) => r.id === 2) ?? {},
  };
}

/** Polls the AttestationCenter's logs until the task with this proof is submitted or rejected. */
export async function waitForVerdict(
  s: State,
  proofOfTask: string,
  timeoutMs = 60_000,
): Promise<{ event: "TaskSubmitted" | "TaskRejected"; attestersIds: number[]; taskNumber: number }> {
  const l2 = provider(s.l2[0]!.rpcUrl);
  const iface = new Interface(L2_ABI);
  const topics = [[iface.getEvent("TaskSubmitted")!.topicHash, iface.getEvent("TaskRejected")!.topicHash]];
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const logs = await l2.getLogs({ address: s.l2[0]!.attestationCenter, topics, fromBlock: 0 });
      for (const log of logs) {
        const parsed = iface.parseLog(log)!;
        if (parsed.args.proofOfTask === proofOfTask) {
          return {
            event: parsed.name as "TaskSubmitted" | "TaskRejected",
            attestersIds: (parsed.args.attestersIds as bigint[]).map(Number),
            taskNumber: Number(parsed.args.taskNumber),
          };
        }
      }
      await sleep(250);
    }
  } finally {
    l2.destroy();
  }
  throw new Error(`no TaskSubmitted/TaskRejected for proof ${proofOfTask} within ${timeoutMs} ms`);
}

/** Pids of live processes whose environment carries AVSCTL_DEVNET_PROJECT=<project>. */
export function labelledProcesses(project: string): number[] {
  const found: number[] = [];
  const needle = `AVSCTL_DEVNET_PROJECT=${project}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^\S+ \(.*\) [ZX] /s.test(stat)) continue;
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(needle))
        found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Stops the supervisor of a process devnet (its restart counts stay), so a component the test
 * kills stays down until the test restarts it; supervise.test.ts covers supervision itself.
 */
export async function stopSupervision(p: TempProject): Promise<void> {
  const { stopSupervisor } = await import("../../../src/devnet/supervisor.js");
  await stopSupervisor(p.dir, false);
}

/** What `up` recorded of how the devnet was started (`.avsctl/devnet.json`, not printed). */
export function recordedPlan(p: TempProject): { attesters: number; blockTime: number } {
  return JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "devnet.json"), "utf8")).internal.plan;
}

/** SIGKILLs one component with the supervisor stopped first, so the devnet stays unhealthy. */
export async function breakDevnet(p: TempProject, component: string): Promise<void> {
  await stopSupervision(p);
  const { pid } = JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", `${component}.json`), "utf8"));
  process.kill(pid, "SIGKILL");
  const { until } = await import("../../helpers/until.js");
  await until(async () => (await p.cli(["devnet", "status", "--json"])).code === 1, `${component} down`);
}

/** Whether the L1 mines on its own (a block time), rather than only on a transaction. */
export async function minesOnItsOwn(s: State): Promise<boolean> {
  const l1 = provider(s.l1.rpcUrl);
  try {
    const before = await l1.getBlockNumber();
    await sleep(3_000);
    return (await l1.getBlockNumber()) > before;
  } finally {
    l1.destroy();
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:<port>. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export const docker = () => new Docker();

/** This project's containers, networks and volumes, found by the dev.avsctl.project label. */
export async function dockerResources(project: string) {
  const d = docker();
  const filters = JSON.stringify({ label: [`dev.avsctl.project=${project}`] });
  const containers = await d.listContainers({ all: true, filters });
  const networks = await d.listNetworks({ filters });
  const volumes = (await d.listVolumes({ filters })).Volumes ?? [];
  return {
    containers: containers.map((c) => c.Names[0]!.replace(/^\//, "")),
    networks: networks.map((n) => n.Name),
    volumes: volumes.map((v) => v.Name),
  };
}

/**
 * Identity of every running component, to tell "left alone" from "restarted": the pid and
 * start time of each process, or the id and start time of each container.
 */
export async function componentIdentities(p: TempProject, runtime: "docker" | "process") {
  const ids: Record<string, string> = {};
  if (runtime === "process") {
    const runDir = path.join(p.dir, ".avsctl", "run");
    for (const file of readdirSync(runDir).filter((f) => f.endsWith(".json"))) {
      const record = JSON.parse(readFileSync(path.join(runDir, file), "utf8"));
      ids[record.component] = `${record.pid}@${record.startedAt}`;
    }
    return ids;
  }
  const d = docker();
  const filters = JSON.stringify({ label: [`dev.avsctl.project=${p.devnet}`] });
  for (const c of await d.listContainers({ all: true, filters })) {
    const info = await d.getContainer(c.Id).inspect();
    ids[c.Labels["dev.avsctl.component"] ?? c.Names[0]!] =
      `${c.Id}@${info.State.StartedAt}@${info.State.Running}`;
  }
  return ids;
}

/** Runs `fn` until it returns true, at most `tries` times, `delayMs` apart. */
export async function eventually(fn: () => Promise<boolean>, tries = 20, delayMs = 250): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return true;
    await sleep(delayMs);
  }
  return false;
}

/**
 * `devnet up --runtime <runtime>` of `p` with a validation service of the test's own, and its
 * teardown (devnet down --volumes, the project's directory, the service), for beforeAll/afterAll.
 */
export async function upWithOwnValidation(
  p: TempProject,
  runtime: "process" | "docker",
): Promise<{ validation: ValidationServer; state: State }> {
  const validation = await startValidationServer();
  const up = await p.cli([
    "devnet",
    "up",
    "--runtime",
    runtime,
    "--validation-url",
    validation.url,
    "--json",
  ]);
  if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  return { validation, state: JSON.parse(up.stdout) };
}

export async function downWithOwnValidation(p: TempProject, validation: ValidationServer | undefined) {
  const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
  if (r.code !== 0) console.error(`devnet down of ${p.name} failed:\n${r.stdout}\n${r.stderr}`);
  p.remove();
  await validation?.stop();
}
