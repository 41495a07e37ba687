/**
 * Helpers for the node runtime's integration tests: a real L1 + L2 (two anvils) with our
 * contracts and registered operators, node processes spawned from a compiled build, real HTTP
 * validation services, and an Othentic-style client written from docs/protocol.md.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AbiCoder, Interface, JsonRpcProvider, keccak256, Network, NonceManager, Wallet } from "ethers";
import { type AnvilInstance, startAnvil } from "../../src/chain/anvil.js";
import { attestationCenter } from "../../src/chain/contracts.js";
import { deployDevnetContracts, registerOperatorL1 } from "../../src/chain/deploy.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../src/chain/dev-keys.js";
import { blsSecretFromSeed, initBls, signTaskBls } from "../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../src/crypto/ecdsa.js";
import { taskHash } from "../../src/crypto/task-hash.js";
import { startRelayer } from "../../src/node/relayer.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The compiled node entry the tests spawn (children cannot import .ts): `npm test` builds
 * dist/ before running the suite, as `avsctl` itself runs from it.
 */
export async function buildNodeEntry(): Promise<string> {
  const entry = path.join(repoRoot, "dist", "node", "entry.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  return entry;
}

// ------------------------------------------------------------------------------------------
// Node processes
// ------------------------------------------------------------------------------------------

export type LogRecord = Record<string, any>;

export interface NodeProcess {
  readonly role: "aggregator" | "attester";
  readonly child: ChildProcess;
  readonly logs: LogRecord[];
  /** Resolves with the first log record (past or future) matching `pred`. */
  waitFor(pred: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** SIGTERM and wait for exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

const liveChildren = new Set<ChildProcess>();
let exitHook = false;

/** Spawns `entry.js <role> <options JSON>` with `env` added to a clean environment. */
export function spawnNode(
  entry: string,
  role: "aggregator" | "attester",
  options: Record<string, unknown>,
  env: Record<string, string> = {},
): NodeProcess {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: "1" };
  const child = spawn(process.execPath, [entry, role, JSON.stringify(options)], {
    cwd: repoRoot,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  liveChildren.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const c of liveChildren) {
        try {
          process.kill(-c.pid!, "SIGKILL");
        } catch {}
      }
    });
  }
  const logs: LogRecord[] = [];
  const waiters: Array<{ pred: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }> = [];
  let buffer = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
      let record: LogRecord;
      try {
        record = JSON.parse(line);
      } catch {
        record = { level: "raw", msg: line };
      }
      logs.push(record);
      for (const w of [...waiters]) {
        if (w.pred(record)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(record);
        }
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      liveChildren.delete(child);
      resolve(code);
    });
  });
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {}
  };
  const waitExit = (ms: number): Promise<boolean> =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  return {
    role,
    child,
    logs,
    exited,
    waitFor(pred, timeoutMs = 30_000) {
      const hit = logs.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const waiter = { pred, resolve };
        waiters.push(waiter);
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(
              `${role}: no matching log line within ${timeoutMs} ms; last lines:\n${logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join("\n")}\nstderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const origResolve = waiter.resolve;
        waiter.resolve = (r) => {
          clearTimeout(timer);
          origResolve(r);
        };
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup("SIGTERM");
      if (!(await waitExit(5_000))) {
        signalGroup("SIGKILL");
        await waitExit(5_000);
      }
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup("SIGKILL");
      await waitExit(5_000);
    },
  };
}

// ------------------------------------------------------------------------------------------
// Chains, contracts and operators
// ------------------------------------------------------------------------------------------

export interface OperatorKey {
  name: string;
  privateKey: string;
  address: string;
}

/** One L2 of a test network. */
export interface TestL2 {
  chainId: number;
  anvil: AnvilInstance;
  provider: JsonRpcProvider;
  attestationCenter: string;
  obls: string;
  internalTaskHandler: string;
}

export interface TestNetwork {
  l1: AnvilInstance;
  /** The first L2 (and its contracts below); every L2 is in `l2s`. */
  l2: AnvilInstance;
  l2s: TestL2[];
  avsGovernance: string;
  attestationCenter: string;
  obls: string;
  internalTaskHandler: string;
  /** Deployer = governance = L2 message handler (relayer key). */
  deployer: OperatorKey;
  aggregator: OperatorKey;
  performer: OperatorKey;
  attesters: OperatorKey[];
  /** Operator ids on the L2s by address (lowercase; the same on every L2, registered in order). */
  operatorIds: Map<string, number>;
  taskDefinitionId: number;
  l1Provider: JsonRpcProvider;
  l2Provider: JsonRpcProvider;
  /** The Othentic environment a node of this network needs (multi-L2 forms with several L2s). */
  env(role: "aggregator" | "attester", index?: number): Record<string, string>;
  stop(): Promise<void>;
}

export const ATTESTER_STAKE = 10n ** 18n;

function key(name: string, index: number): OperatorKey {
  const privateKey = ANVIL_DEV_PRIVATE_KEYS[index]!;
  return { name, privateKey, address: new Wallet(privateKey).address };
}

function provider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, pollingInterval: 100 });
}

/**
 * Anvils for L1 (31337) and each L2 (default one: 31338), our contracts, a task definition on
 * each L2, and five operators registered on L1 and mirrored to every L2 by the relayer: the
 * aggregator and the performer with no stake, three attesters with ATTESTER_STAKE each (so two
 * attesters approve, one rejects). With `l2StateDir`, each L2 keeps a state file there
 * (`l2-<chainId>.json`), saved every second as a devnet's chains are.
 */
export async function startTestNetwork(
  opts: { l2ChainIds?: number[]; l2StateDir?: string } = {},
): Promise<TestNetwork> {
  await initBls();
  const chainIds = opts.l2ChainIds ?? [31338];
  const started: AnvilInstance[] = [];
  const providers: JsonRpcProvider[] = [];
  try {
    const l1 = await startAnvil({ chainId: 31337 });
    started.push(l1);
    const l2Anvils: AnvilInstance[] = [];
    for (const chainId of chainIds) {
      const stateFile = opts.l2StateDir ? path.join(opts.l2StateDir, `l2-${chainId}.json`) : undefined;
      const chain = await startAnvil({ chainId, stateFile });
      started.push(chain);
      l2Anvils.push(chain);
    }
    const l1Provider = provider(l1.rpcUrl, 31337);
    providers.push(l1Provider);
    const deployer = key("deployer", 0);
    const aggregator = key("aggregator", 1);
    const attesters = [key("attester-1", 2), key("attester-2", 3), key("attester-3", 4)];
    const performer = key("performer", 5);

    const deployment = await deployDevnetContracts({
      l1: { rpcUrl: l1.rpcUrl },
      l2: l2Anvils.map((a) => ({ rpcUrl: a.rpcUrl })),
      deployerKey: deployer.privateKey,
    });
    const avsGovernance = deployment.avsGovernance;
    const l2s: TestL2[] = [];
    for (const [i, d] of deployment.l2.entries()) {
      const l2Provider = provider(l2Anvils[i]!.rpcUrl, d.chainId);
      providers.push(l2Provider);
      const l2Deployer = new NonceManager(new Wallet(deployer.privateKey, l2Provider));
      const create = attestationCenter(d.attestationCenter, l2Deployer).getFunction(
        "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
      );
      await (await create("default", [2n ** 64n - 1n, 0n, 0n, 0n, 0n, 0n, [], 0n])).wait();
      l2s.push({ ...d, anvil: l2Anvils[i]!, provider: l2Provider });
    }

    // Stakes are set before registration: the registration event carries the stake, and the
    // relayer mirrors it to L2 as voting power.
    for (const op of [aggregator, performer, ...attesters]) {
      const isAttester = attesters.includes(op);
      await registerOperatorL1({
        rpcUrl: l1.rpcUrl,
        avsGovernance,
        operatorKey: op.privateKey,
        stake: isAttester ? ATTESTER_STAKE : undefined,
        governanceKey: isAttester ? deployer.privateKey : undefined,
      });
    }
    const relayer = await startRelayer({
      l1: { rpcUrl: l1.rpcUrl, avsGovernance },
      l2: l2s.map((c) => ({
        chainId: c.chainId,
        rpcUrl: c.anvil.rpcUrl,
        attestationCenter: c.attestationCenter,
      })),
      privateKey: deployer.privateKey,
    });
    await relayer.stop();
    // as the devnet does: each key's G1 twin beside it (the relayer carries only the G2 key)
    const { blsKeyFromOperatorKey, registerBlsKeyG1 } = await import("../../src/chain/register.js");
    const { blsPublicKeyG1 } = await import("../../src/crypto/bls.js");
    for (const op of [aggregator, performer, ...attesters]) {
      await registerBlsKeyG1({
        l2: l2s.map((c) => ({ rpcUrl: c.anvil.rpcUrl, attestationCenter: c.attestationCenter })),
        senderKey: deployer.privateKey,
        operator: op.address,
        blsPublicKeyG1: blsPublicKeyG1((await blsKeyFromOperatorKey(op.privateKey)).secret),
      });
    }

    const first = l2s[0]!;
    const acView = attestationCenter(first.attestationCenter, first.provider);
    const operatorIds = new Map<string, number>();
    for (const op of [aggregator, performer, ...attesters]) {
      operatorIds.set(op.address.toLowerCase(), Number(await acView.operatorsIdsByAddress(op.address)));
    }
    const multi = l2s.length > 1;
    return {
      l1,
      l2: first.anvil,
      l2s,
      avsGovernance,
      attestationCenter: first.attestationCenter,
      obls: first.obls,
      internalTaskHandler: first.internalTaskHandler,
      deployer,
      aggregator,
      performer,
      attesters,
      operatorIds,
      taskDefinitionId: 1,
      l1Provider,
      l2Provider: first.provider,
      env(role, index) {
        return {
          PRIVATE_KEY:
            role === "aggregator" ? aggregator.privateKey : attesters[(index ?? 1) - 1]!.privateKey,
          L1_RPC: l1.rpcUrl,
          L1_CHAIN: "31337",
          L2_RPC: multi ? l2s.map((c) => `${c.chainId}@${c.anvil.rpcUrl}`).join(",") : first.anvil.rpcUrl,
          L2_CHAIN: l2s.map((c) => c.chainId).join(","),
          AVS_GOVERNANCE_ADDRESS: avsGovernance,
          ATTESTATION_CENTER_ADDRESS: multi
            ? l2s.map((c) => `${c.chainId}@${c.attestationCenter}`).join(",")
            : first.attestationCenter,
        };
      },
      async stop() {
        for (const p of providers) p.destroy();
        await Promise.all(started.map((a) => a.stop()));
      },
    };
  } catch (error) {
    for (const p of providers) p.destroy();
    await Promise.all(started.map((a) => a.stop()));
    throw error;
  }
}

// ------------------------------------------------------------------------------------------
// Validation services
// ------------------------------------------------------------------------------------------

export type ValidationMode = "approve" | "reject" | "garbage" | "error500" | "go-shape-approve" | "hang";

export interface ValidationService {
  readonly url: string;
  mode: ValidationMode;
  /** Bodies received on /task/validate (parsed only with a JSON content type, as Express does). */
  readonly calls: unknown[];
  readonly messages: unknown[];
  close(): Promise<void>;
}

/**
 * A validation service written as an Express service behaves: the JSON body is parsed only
 * with `Content-Type: application/json`; without it the body is empty and the answer false.
 */
export async function startValidationService(
  mode: ValidationMode = "approve",
  port = 0,
): Promise<ValidationService> {
  const calls: unknown[] = [];
  const messages: unknown[] = [];
  const service = { mode } as { mode: ValidationMode };
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => {
      const json = /^application\/json/i.test(req.headers["content-type"] ?? "");
      const parsed = json && body ? JSON.parse(body) : {};
      const send = (status: number, value: unknown): void => {
        const text = typeof value === "string" ? value : JSON.stringify(value);
        res.writeHead(status, { "content-type": "application/json" }).end(text);
      };
      if (req.url === "/p2p/message") {
        messages.push(parsed);
        return send(200, { data: true, error: false, message: null });
      }
      if (req.url !== "/task/validate") return send(404, { error: true, message: "not found", data: {} });
      calls.push(parsed);
      const complete = ["proofOfTask", "data", "taskDefinitionId", "performer"].every((k) => k in parsed);
      switch (service.mode) {
        case "approve":
          return send(200, { data: complete, error: false, message: null });
        case "go-shape-approve":
          return send(200, { data: { result: complete }, message: "ok" });
        case "reject":
          return send(200, { data: false, error: false, message: null });
        case "garbage":
          return send(200, "<html>definitely not json</html>");
        case "error500":
          return send(500, { error: true, message: "could not fetch the proof", data: {} });
        case "hang":
          return; // never answers
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(service, {
    url,
    calls,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  }) as ValidationService;
}

// ------------------------------------------------------------------------------------------
// Test beds
// ------------------------------------------------------------------------------------------

/** What a node test starts from: the compiled node entry, a test network, validation services. */
export interface NodeTestBed {
  entry: string;
  net: TestNetwork;
  /** One approving service per attester, in attester order. */
  services: ValidationService[];
  /** Closes the services and stops the network; the test stops its own node processes first. */
  stop(): Promise<void>;
}

/**
 * Builds the node entry and starts a test network (its L2s: `l2ChainIds`) with `services`
 * approving validation services (default three, one per attester). When a step fails, what
 * already started is stopped before the error is thrown.
 */
export async function startNodeTestBed(
  opts: { l2ChainIds?: number[]; services?: number; l2StateDir?: string } = {},
): Promise<NodeTestBed> {
  const [built, network] = await Promise.allSettled([
    buildNodeEntry(),
    startTestNetwork({ l2ChainIds: opts.l2ChainIds, l2StateDir: opts.l2StateDir }),
  ]);
  const services: ValidationService[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(services.map((s) => s.close()));
    if (network.status === "fulfilled") await network.value.stop();
  };
  try {
    if (built.status === "rejected") throw built.reason;
    if (network.status === "rejected") throw network.reason;
    for (let i = 0; i < (opts.services ?? 3); i++) services.push(await startValidationService("approve"));
    return { entry: built.value, net: network.value, services, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ------------------------------------------------------------------------------------------
// Clients
// ------------------------------------------------------------------------------------------

export interface TaskInput {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
}

/**
 * What Othentic's example execution service does (docs/protocol.md#node-json-rpc): sign the task hash
 * raw with ethers and call `sendTask` through ethers' JsonRpcProvider, which batches its
 * `eth_chainId` probe with the call.
 */
export async function sendTaskLikeOthentic(
  aggregatorUrl: string,
  performerKey: string,
  task: TaskInput,
  opts: { sigType?: "ecdsa" | "bls"; targetChainId?: number } = {},
): Promise<string> {
  const wallet = new Wallet(performerKey);
  const hash = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "bytes", "address", "uint16"],
      [task.proofOfTask, task.data, wallet.address, task.taskDefinitionId],
    ),
  );
  let params: unknown[];
  if (opts.sigType === "bls") {
    const sig = signTaskBls(blsSecretFromSeed(performerKey), hash);
    const signature = JSON.stringify({
      x: `0x${sig[0].toString(16).padStart(64, "0")}`,
      y: `0x${sig[1].toString(16).padStart(64, "0")}`,
    });
    params = [task.proofOfTask, task.data, task.taskDefinitionId, wallet.address, signature, "bls"];
  } else {
    const signature = wallet.signingKey.sign(hash).serialized;
    params = [task.proofOfTask, task.data, task.taskDefinitionId, wallet.address, signature];
    if (opts.targetChainId !== undefined) params.push("ecdsa");
  }
  if (opts.targetChainId !== undefined) params.push(opts.targetChainId);
  const client = new JsonRpcProvider(aggregatorUrl);
  let timer: NodeJS.Timeout | undefined;
  // ethers waits up to 300 s for an answer: a node that holds the request fails here, named
  const held = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`sendTask to ${aggregatorUrl}: no answer within 60 s`)),
      60_000,
    );
  });
  try {
    return (await Promise.race([client.send("sendTask", params), held])) as string;
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

/** A raw JSON-RPC POST (any body); returns HTTP status and parsed JSON (or the text). */
export async function postRaw(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  // bounded, so a node that holds a request fails the test here, naming it, not at the test's timeout
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, json };
}

/** sendTask params for an ECDSA-signed task (our own signer, for non-Othentic tests). */
export function ecdsaSendTaskParams(performerKey: string, task: TaskInput): unknown[] {
  const performer = new Wallet(performerKey).address;
  const hash = taskHash({ ...task, performer });
  return [task.proofOfTask, task.data, task.taskDefinitionId, performer, signTaskEcdsa(performerKey, hash)];
}

export interface TaskStatus {
  status: string;
  txHash: string | null;
  taskNumber: number | null;
  attestersIds: number[];
  error: string | null;
}

/** Polls avsctl_taskStatus until the task leaves pending/submitting (bounded). */
export async function waitTaskFinal(
  aggregatorUrl: string,
  hash: string,
  timeoutMs = 30_000,
): Promise<TaskStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskStatus | undefined;
  while (Date.now() < deadline) {
    const r = await postRaw(
      aggregatorUrl,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "avsctl_taskStatus", params: [hash] }),
    ).catch(() => undefined);
    last = r?.json?.result;
    if (last && last.status !== "pending" && last.status !== "submitting") return last;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`task ${hash} not final within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

const acEvents = new Interface([
  "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskRejected(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
]);

export interface TaskEvent {
  name: "TaskSubmitted" | "TaskRejected";
  taskHash: string;
  operator: string;
  taskNumber: number;
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
  attestersIds: number[];
  txHash: string;
}

/** Every TaskSubmitted / TaskRejected of the AttestationCenter so far, with its task hash. */
export async function taskEvents(net: TestNetwork, l2: TestL2 = net.l2s[0]!): Promise<TaskEvent[]> {
  // Straight eth_getLogs: ethers' provider may answer "latest" from a cached block number.
  const r = await postRaw(
    l2.anvil.rpcUrl,
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getLogs",
      params: [
        {
          address: l2.attestationCenter,
          fromBlock: "0x0",
          toBlock: "latest",
          topics: [
            [acEvents.getEvent("TaskSubmitted")!.topicHash, acEvents.getEvent("TaskRejected")!.topicHash],
          ],
        },
      ],
    }),
  );
  const logs = r.json.result as Array<{ topics: string[]; data: string; transactionHash: string }>;
  return logs.map((l) => {
    const p = acEvents.parseLog(l)!;
    const t = {
      proofOfTask: p.args.proofOfTask as string,
      data: p.args.data as string,
      performer: p.args.operator as string,
      taskDefinitionId: Number(p.args.taskDefinitionId),
    };
    return {
      name: p.name as TaskEvent["name"],
      taskHash: taskHash(t),
      operator: t.performer,
      taskNumber: Number(p.args.taskNumber),
      proofOfTask: t.proofOfTask,
      data: t.data,
      taskDefinitionId: t.taskDefinitionId,
      attestersIds: (p.args.attestersIds as bigint[]).map(Number),
      txHash: l.transactionHash,
    };
  });
}

/**
 * Spawns an aggregator of a test network (JSON-RPC on a free port unless `options` names one)
 * and waits for it to be ready; a node that fails to start is stopped and the error thrown.
 */
export async function startAggregatorProcess(
  entry: string,
  net: TestNetwork,
  options: Record<string, unknown> = {},
): Promise<{ aggregator: NodeProcess; rpcUrl: string }> {
  const aggregator = spawnNode(entry, "aggregator", { jsonRpcPort: 0, ...options }, net.env("aggregator"));
  try {
    const ready = await aggregator.waitFor(
      (r) => r.msg === "aggregator ready" || r.msg === "node failed to start",
      60_000,
    );
    if (ready.msg !== "aggregator ready") throw new Error(`aggregator failed: ${JSON.stringify(ready)}`);
    return { aggregator, rpcUrl: ready.rpcUrl as string };
  } catch (error) {
    await aggregator.stop();
    throw error;
  }
}

/** Starts the aggregator + n attester processes of a test network; resolves when all are connected. */
export async function startNodes(
  entry: string,
  net: TestNetwork,
  services: ValidationService[],
  aggregatorOptions: Record<string, unknown> = {},
): Promise<{ aggregator: NodeProcess; attesters: NodeProcess[]; rpcUrl: string }> {
  const { aggregator, rpcUrl } = await startAggregatorProcess(entry, net, aggregatorOptions);
  const attesters = services.map((s, i) => startAttesterProcess(entry, net, i + 1, rpcUrl, s.url));
  await Promise.all(
    net.attesters
      .slice(0, services.length)
      .map((a) =>
        aggregator.waitFor(
          (r) => r.msg === "attester connected" && String(r.peer).toLowerCase() === a.address.toLowerCase(),
          60_000,
        ),
      ),
  );
  return { aggregator, attesters, rpcUrl };
}

export function startAttesterProcess(
  entry: string,
  net: TestNetwork,
  index: number,
  aggregatorUrl: string,
  webapi: string,
): NodeProcess {
  return spawnNode(
    entry,
    "attester",
    { aggregatorUrl, avsWebapi: webapi, validationTimeoutMs: 3_000 },
    net.env("attester", index),
  );
}

/** Waits until the aggregator reports `n` connected attesters (bounded). */
export async function waitPeers(aggregatorUrl: string, n: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${aggregatorUrl}/health`)).json()) as { attesters: string[] };
    seen = health.attesters.length;
    if (seen === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} connected attesters, saw ${seen}`);
}
