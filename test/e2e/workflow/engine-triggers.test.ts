/**
 * Stored tasks' triggers through a process devnet, driven with the CLI as a user would: the
 * engine's own watcher fires a cron, a block and an event trigger, and each execution is sent
 * as an AVS task and attested on the L2, performed and signed by the operator the trigger
 * runner's election picks for it (which rotates). Cron with maxExecution 3 gives exactly 3
 * executions and then completed; a block trigger every 2 blocks fires on every 2nd block and
 * nothing after it is canceled; an event trigger on a contract deployed on the L2 fires once per
 * log, with the log. Access and secrets: another owner's token gets 403 on every endpoint of a
 * task, cancel stops its firings, delete removes it, and a secret's value shows in no CLI output,
 * no HTTP answer and no line of any of the devnet's logs.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContractFactory, JsonRpcProvider, id as topicId, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verdictTopics } from "../../../src/client/verdicts.js";
import { electPerformer, readActiveOperators } from "../../../src/triggers/leader.js";
import { rpc } from "../../helpers/anvil.js";
import { type CliResult, runCli } from "../../helpers/cli.js";
import type { LooseContract } from "../../helpers/contract.js";
import { call, signedBody, until } from "../../integration/task-engine/helpers.js";

const EMITTER = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Emitter {
  event Ping(uint256 indexed kind, uint256 value);
  function ping(uint256 kind, uint256 value) external { emit Ping(kind, value); }
}`;

function compileEmitter(): { abi: unknown[]; bytecode: string } {
  const solc = createRequire(import.meta.url)("solc");
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "E.sol": { content: EMITTER } },
        settings: { evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
      }),
    ),
  );
  const c = out.contracts["E.sol"].Emitter;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-engine-triggers-"));
writeFileSync(
  path.join(dir, "avsctl.config.json"),
  JSON.stringify({ name: `e2e-triggers-${process.pid}`, devnet: { engine: true } }),
);
/** Every CLI output and HTTP answer of this file: a secret's value must be in none. */
const outputs: string[] = [];
const cli = async (args: string[], timeoutMs = 120_000, env: Record<string, string | undefined> = {}) => {
  const r: CliResult = await runCli([...args, "--json"], { cwd: dir, timeoutMs, env });
  outputs.push(r.stdout, r.stderr);
  return r;
};
let state: any;
let provider: JsonRpcProvider;
let files = 0;

/** `avsctl workflow create` of a one-node task with this trigger; its id. */
async function create(
  trigger: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  source = "return trig.data",
): Promise<string> {
  const file = path.join(dir, `workflow-${++files}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: `watched-${files}`,
      trigger: { id: "t", name: "trig", ...trigger },
      nodes: [
        {
          id: "c",
          name: "c",
          type: "customCode",
          config: { lang: "javascript", source },
        },
      ],
      edges: [{ id: "e1", source: "t", target: "c" }],
      ...extra,
    }),
  );
  const r = await cli(["workflow", "create", file]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json().status).toBe("active");
  return r.json().id as string;
}

async function task(id: string): Promise<any> {
  const r = await cli(["workflow", "get", id]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json();
}

/** Every execution of the task, oldest first. */
async function executions(id: string): Promise<any[]> {
  const r = await cli(["workflow", "executions", id, "--limit", "200"]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json().cursor).toBeNull();
  return (r.json().items as any[]).reverse();
}

async function cancel(id: string): Promise<void> {
  const r = await cli(["workflow", "cancel", id]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.json().status).toBe("canceled");
}

async function mine(blocks: number): Promise<void> {
  await rpc(state.l2[0].rpcUrl, "anvil_mine", [`0x${blocks.toString(16)}`]);
}

async function head(): Promise<number> {
  return Number.parseInt(await rpc<string>(state.l2[0].rpcUrl, "eth_blockNumber"), 16);
}

/**
 * The task's executions once at least `count` are there and each has its verdict, or was
 * dropped from the queue by a cancel.
 */
async function attested(id: string, count: number, ms = 120_000): Promise<any[]> {
  return until(
    async () => {
      const runs = await executions(id);
      const final = runs.every((e) => e.verdict !== null || e.status === "canceled");
      return runs.length >= count && final ? runs : undefined;
    },
    `${count} attested executions of ${id}`,
    ms,
  );
}

/**
 * Waits until the engine's watcher has fired on a block after `block`: a block trigger created
 * now, fired at such a block, proves every task created before it is watched and every block up
 * to that one was scanned. The witness is canceled and its executions left to finish.
 */
async function watcherPast(block: number): Promise<number> {
  const witness = await create({ type: "block", config: { interval: 1 } });
  const fired = await until(
    async () => {
      const runs = await executions(witness);
      const past = runs.find((e) => e.triggerReason.blockNumber > block);
      if (past) return past.triggerReason.blockNumber as number;
      await mine(1);
      return undefined;
    },
    `the watcher to fire past block ${block}`,
    60_000,
  );
  await cancel(witness);
  return fired;
}

/** The execution's verdict as its attestation's receipt on the L2 reports it. */
async function chainVerdict(execution: any) {
  const receipt = await provider.getTransactionReceipt(execution.txHash);
  expect(receipt?.status).toBe(1);
  const topics = await verdictTopics();
  return receipt!.logs
    .map((log) => topics.parse(log as never, state.l2[0].chainId))
    .find((v) => v?.taskNumber === execution.taskNumber);
}

/**
 * Each execution was performed by the operator the trigger runner's election picks for it (the
 * round robin over the L2's active operators on the firing's block, or its slot's second), on
 * the devnet's L2, and that operator is the performer of its task on-chain.
 */
async function expectElected(runs: any[]): Promise<Set<string>> {
  const { rpcUrl, attestationCenter, chainId } = state.l2[0];
  for (const e of runs) {
    const reason = e.triggerReason;
    expect(e.electedAt).toBe(reason.blockNumber ?? Math.floor(reason.epoch / 1000));
    expect(e.chainId).toBe(chainId);
    const operators = await readActiveOperators(rpcUrl, attestationCenter, reason.blockNumber);
    expect(e.performer).toBe(electPerformer(operators, e.electedAt)!.operator);
    expect((await chainVerdict(e))?.performer).toBe(e.performer);
  }
  return new Set(runs.map((e) => e.performer as string));
}

function expectAttested(runs: any[]): void {
  for (const e of runs) {
    expect(e).toMatchObject({ status: "success", verdict: "approved" });
    expect(e.taskNumber).toEqual(expect.any(Number));
    expect(e.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  }
  expect(new Set(runs.map((e) => e.taskNumber)).size).toBe(runs.length);
}

beforeAll(async () => {
  const up = await cli(["devnet", "up", "--runtime", "process"], 300_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  state = up.json();
  expect(state.engine).toMatchObject({ chainId: state.l2[0].chainId, taskDefinitionId: 2 });
  provider = new JsonRpcProvider(state.l2[0].rpcUrl, undefined, {
    staticNetwork: true,
    pollingInterval: 100,
    // a cached nonce would send the second ping with the first one's
    cacheTimeout: -1,
  });
}, 360_000);

afterAll(async () => {
  provider?.destroy();
  await runCli(["devnet", "down", "--volumes"], { cwd: dir, timeoutMs: 120_000 });
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("stored-task triggers in a process devnet", () => {
  it("cron every second with maxExecution 3: exactly 3 executions, each approved on the L2, then completed", {
    timeout: 180_000,
  }, async () => {
    const id = await create({ type: "cron", config: { schedules: ["* * * * * *"] } }, { maxExecution: 3 });
    await until(async () => (await task(id)).status === "completed", "the cron task to complete", 60_000);
    const runs = await attested(id, 3);
    expect(runs).toHaveLength(3);
    expectAttested(runs);
    expect(runs.every((e) => e.triggerReason.type === "cron")).toBe(true);
    const epochs = runs.map((e) => e.triggerReason.epoch as number);
    expect(new Set(epochs).size).toBe(3);
    expect(epochs.every((e) => e % 1000 === 0)).toBe(true);
    expect(runs.map((e) => e.triggerData.timestamp)).toEqual(epochs);
    expect(await task(id)).toMatchObject({ status: "completed", totalExecution: 3, maxExecution: 3 });

    // the chain's own word, for each
    for (const e of runs) {
      expect(await chainVerdict(e)).toMatchObject({
        status: "approved",
        taskDefinitionId: 2,
        proofOfTask: e.digest,
        performer: e.performer,
      });
    }
    // three seconds in a row: the round robin hands them to more than one operator
    expect((await expectElected(runs)).size).toBeGreaterThan(1);
    const one = await cli(["workflow", "execution", id, runs[0].id]);
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.json()).toMatchObject({ id: runs[0].id, verdict: "approved", txHash: runs[0].txHash });
  });

  it("a block trigger every 2 blocks fires on every 2nd block, approved on the L2, and not after it is canceled", {
    timeout: 240_000,
  }, async () => {
    const id = await create({ type: "block", config: { interval: 2 } });
    // mine until the watcher has the task and fired once
    const first = await until(
      async () => {
        const runs = await executions(id);
        if (runs.length > 0) return runs[0].triggerReason.blockNumber as number;
        await mine(1);
        return undefined;
      },
      "the first block firing",
      60_000,
    );
    await mine(7);
    const top = await head();
    // each execution's attestation mines blocks too, so firings go on: wait for the ones up to top
    const wanted: number[] = [];
    for (let b = first; b <= top; b += 2) wanted.push(b);
    await until(
      async () => {
        const ran = new Set(
          (await executions(id))
            .filter((e) => e.status === "success")
            .map((e) => e.triggerReason.blockNumber),
        );
        return wanted.every((b) => ran.has(b));
      },
      `executions for blocks ${wanted.join(", ")}`,
      60_000,
    );
    await cancel(id);
    const canceledAt = await head();
    const runs = await attested(id, wanted.length);
    // a firing still queued when it was canceled is dropped, not run
    expectAttested(runs.filter((e) => e.status !== "canceled"));
    expect(
      runs.filter((e) => wanted.includes(e.triggerReason.blockNumber)).every((e) => e.verdict === "approved"),
    ).toBe(true);
    const blocks = runs.map((e) => e.triggerReason.blockNumber as number).sort((a, b) => a - b);
    expect(runs.every((e) => e.triggerReason.type === "block")).toBe(true);
    expect(runs.every((e) => e.triggerData.blockNumber === e.triggerReason.blockNumber)).toBe(true);
    // every 2nd block from the first firing on, none missed, none twice
    expect(blocks.every((b) => b % 2 === 0)).toBe(true);
    expect(blocks).toEqual(Array.from({ length: blocks.length }, (_, i) => blocks[0]! + 2 * i));
    expect(blocks.slice(0, wanted.length)).toEqual(wanted);
    expect(await chainVerdict(runs[0])).toMatchObject({ status: "approved", proofOfTask: runs[0].digest });
    await expectElected(runs.filter((e) => e.status !== "canceled"));

    // more blocks, seen by the watcher, and no further firing of the canceled task
    await mine(6);
    await watcherPast(canceledAt + 6);
    const after = await executions(id);
    expect(after.map((e) => e.id)).toEqual(runs.map((e) => e.id));
    expect((await task(id)).status).toBe("canceled");
  });

  it("an event trigger on a contract on the L2 fires once per log, with the log, approved on the L2", {
    timeout: 240_000,
  }, async () => {
    const deployer = new Wallet(state.deployer.privateKey, provider);
    const built = compileEmitter();
    const factory = new ContractFactory(built.abi as never, built.bytecode, deployer);
    const emitter = (await (await factory.deploy()).waitForDeployment()) as LooseContract;
    const address = String(emitter.target);
    const topic = topicId("Ping(uint256,uint256)");
    const id = await create({
      type: "event",
      config: { queries: [{ addresses: [address], topics: [{ values: [topic] }] }] },
    });
    // the watcher scans the task's logs from the block it first saw it at
    await watcherPast(await head());

    const receipts = [await (await emitter.ping(1n, 10n)).wait(), await (await emitter.ping(2n, 20n)).wait()];
    const logs = receipts.map((r: any) => r.logs[0]);
    const runs = await attested(id, 2);
    expect(runs).toHaveLength(2);
    expectAttested(runs);
    expect(runs.map((e) => `${e.triggerReason.txHash}:${e.triggerReason.logIndex}`).sort()).toEqual(
      logs.map((l: any) => `${l.transactionHash}:${l.index}`).sort(),
    );
    for (const e of runs) {
      const log = logs.find((l: any) => l.transactionHash === e.triggerReason.txHash)!;
      expect(e.triggerReason.type).toBe("event");
      expect(e.triggerData).toMatchObject({
        transactionHash: log.transactionHash,
        logIndex: log.index,
        blockNumber: log.blockNumber,
        topics: [...log.topics],
        data: log.data,
      });
      expect(e.triggerData.address.toLowerCase()).toBe(address.toLowerCase());
      expect(e.triggerData.topics[0]).toBe(topic);
    }
    expect(await chainVerdict(runs[1])).toMatchObject({ status: "approved", proofOfTask: runs[1].digest });

    // still one execution per log once the watcher has scanned past them
    await watcherPast(await head());
    expect(await executions(id)).toHaveLength(2);
    await cancel(id);
  });
  it("another owner gets 403 on every endpoint of a task; cancel stops its firings and delete removes it; a secret's value is in no answer and no log line", {
    timeout: 300_000,
  }, async () => {
    const SECRET = `s3cr3t-${process.pid}-Zq81x`;
    const set = await cli(["secret", "set", "apiKey", "--value", SECRET]);
    expect(set.code, set.stdout + set.stderr).toBe(0);
    const id = await create(
      { type: "block", config: { interval: 1 } },
      {},
      "return 'key=' + apContext.configVars.apiKey + ' at ' + trig.data.blockNumber",
    );
    await until(
      async () => {
        if ((await executions(id)).filter((e) => e.status === "success").length >= 2) return true;
        await mine(1);
        return undefined;
      },
      "two firings of the task that reads the secret",
      60_000,
    );

    // the devnet's engine, over HTTP, as its owner (the CLI's default: the deployer) and as another
    const signIn = async (key: string) => {
      const body = await signedBody(new Wallet(key), { chainId: state.engine.chainId });
      const r = await call(state.engine.url, "POST", "/auth:exchange", undefined, body);
      expect(r.status, r.text).toBe(200);
      return r.body.token as string;
    };
    const ownerToken = await signIn(state.deployer.privateKey);
    const other = Wallet.createRandom();
    const otherToken = await signIn(other.privateKey);
    const http = async (token: string, method: string, route: string, body?: unknown) => {
      const r = await call(state.engine.url, method, route, token, body);
      outputs.push(r.text);
      return r;
    };
    const execId = (await executions(id))[0].id;
    const scoped = `?workflowId=${id}`;
    const denied: Array<[string, string, unknown?]> = [
      ["GET", `/workflows/${id}`],
      ["POST", `/workflows/${id}:trigger`, { isBlocking: true }],
      ["POST", `/workflows/${id}:cancel`],
      ["DELETE", `/workflows/${id}`],
      ["GET", `/workflows/${id}/executions`],
      ["GET", `/workflows/${id}/executions/${execId}`],
      ["GET", `/workflows/${id}/executions/${execId}/status`],
      ["GET", `/workflows?owner=${state.deployer.address}`],
      ["POST", "/secrets", { name: "apiKey", secret: "other-value", workflowId: id }],
      ["PUT", "/secrets/apiKey", { secret: "other-value", workflowId: id }],
      ["GET", `/secrets${scoped}`],
      ["DELETE", `/secrets/apiKey${scoped}`],
    ];
    for (const [method, route, body] of denied) {
      const r = await http(otherToken, method, route, body);
      expect(r.status, `${method} ${route}: ${r.text}`).toBe(403);
    }
    // the CLI says so too, and the other owner sees nothing of the owner's
    const asOther = { AVSCTL_PRIVATE_KEY: other.privateKey };
    for (const args of [
      ["workflow", "get", id],
      ["workflow", "cancel", id],
      ["workflow", "delete", id],
      ["workflow", "executions", id],
      ["secret", "list", "--workflow", id],
    ]) {
      const r = await cli(args, 60_000, asOther);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.json().error).toMatchObject({ code: "ACCESS_DENIED", details: { status: 403 } });
    }
    expect((await cli(["workflow", "list"], 60_000, asOther)).json().items).toEqual([]);
    expect((await cli(["secret", "list"], 60_000, asOther)).json().items).toEqual([]);
    expect((await task(id)).status).toBe("active");

    // canceled: what ran is attested, its secret masked; no block after fires it
    await cancel(id);
    const canceledAt = await head();
    const runs = await attested(id, 2);
    const ran = runs.filter((e) => e.status !== "canceled");
    expectAttested(ran);
    await expectElected(ran);
    for (const e of ran) expect(e.steps[1].output).toBe(`key=*** at ${e.triggerReason.blockNumber}`);
    // the record the attesters re-ran, from the devnet's IPFS node
    const cid = Buffer.from((await chainVerdict(ran[0]))!.data.slice(2), "hex").toString("utf8");
    const record = await (await fetch(`${state.ipfs.gatewayUrl}${cid}`)).text();
    outputs.push(record);
    expect(record).toContain("key=***");
    await mine(4);
    await watcherPast(canceledAt + 4);
    expect((await executions(id)).map((e) => e.id)).toEqual(runs.map((e) => e.id));

    // deleted: gone for its owner too, its executions with it
    const removed = await cli(["workflow", "delete", id]);
    expect(removed.json()).toEqual({ id, deleted: true });
    const gone = await cli(["workflow", "get", id]);
    expect(gone.code).toBe(1);
    expect(gone.json().error.code).toBe("NOT_FOUND");
    expect((await http(ownerToken, "GET", `/workflows/${id}/executions`)).status).toBe(404);
    expect((await http(ownerToken, "GET", `/workflows/${id}/executions/${execId}`)).status).toBe(404);
    expect((await cli(["secret", "delete", "apiKey"])).json()).toEqual({ name: "apiKey", deleted: true });

    // every log of the devnet, as `devnet logs` merges them and as the files hold them
    const merged = await cli(["devnet", "logs"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain(id);
    const logs = await cli(["devnet", "logs", "task-engine"]);
    expect(logs.code, logs.stderr).toBe(0);
    const lines = logs.json().lines as string[];
    expect(lines.some((l) => l.includes(id))).toBe(true);
    const logDir = path.join(dir, ".avsctl", "logs");
    const files = readdirSync(logDir).filter((f) => f.endsWith(".log"));
    expect(files).toContain("task-engine.log");
    const engineLog = readFileSync(path.join(logDir, "task-engine.log"), "utf8");
    expect(engineLog).toContain(id);
    expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
    for (const f of files) expect(readFileSync(path.join(logDir, f), "utf8").includes(SECRET), f).toBe(false);
    expect(outputs.filter((o) => o.includes(SECRET))).toEqual([]);
    expect(outputs.some((o) => o.includes("key=***"))).toBe(true);
  });
});
