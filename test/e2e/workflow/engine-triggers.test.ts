/**
 * Stored tasks' triggers through a process devnet, driven with the CLI as a user would: the
 * engine's own watcher fires a cron, a block and an event trigger, and each execution is sent
 * as an AVS task and attested on the L2. Cron with maxExecution 3 gives exactly 3 executions and
 * then completed; a block trigger every 2 blocks fires on every 2nd block and nothing after it is
 * canceled; an event trigger on a contract deployed on the L2 fires once per log, with the log.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContractFactory, JsonRpcProvider, id as topicId, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verdictTopics } from "../../../src/client/verdicts.js";
import { rpc } from "../../helpers/anvil.js";
import { runCli } from "../../helpers/cli.js";
import type { LooseContract } from "../../helpers/contract.js";
import { until } from "../../integration/task-engine/helpers.js";

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
const cli = (args: string[], timeoutMs = 120_000) => runCli([...args, "--json"], { cwd: dir, timeoutMs });
let state: any;
let provider: JsonRpcProvider;
let files = 0;

/** `avsctl workflow create` of a one-node task with this trigger; its id. */
async function create(
  trigger: Record<string, unknown>,
  extra: Record<string, unknown> = {},
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
          config: { lang: "javascript", source: "return trig.data" },
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
        performer: state.performer.address,
      });
    }
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
});
