/**
 * Triggers of stored tasks: a real anvil, the engine as its own process (dist), and the
 * stored-task watcher (src/triggers/stored-tasks.ts) electing its performer on an operator list
 * contract the test deploys. Cron with maxExecution 3 gives exactly 3 executions and then
 * completed; a block trigger fires on every 2nd block; an event trigger fires once per log, with
 * the log in the trigger data, even with two watchers reporting every firing.
 */

import { type Contract, JsonRpcProvider, Network, id as topicId, Wallet } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StoredTaskWatcher, startStoredTaskWatcher } from "../../../src/triggers/stored-tasks.js";
import { ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";
import { type EngineProcess, startEngineProcess } from "../../helpers/engine.js";
import { deployTriggerContracts } from "../../helpers/trigger-contracts.js";
import { call, signIn, until } from "./helpers.js";

const SECRET = "operator-secret-for-tests";
const [DEPLOYER_KEY, OPERATOR_KEY] = ANVIL_DEV_PRIVATE_KEYS;
const operator = new Wallet(OPERATOR_KEY!);
const chain = useAnvil({ chainId: 31337 });
let engine: EngineProcess;
let emitter: Contract;
let operatorList: Contract;
let token: string;
const watchers: StoredTaskWatcher[] = [];

async function watcher(): Promise<StoredTaskWatcher> {
  const w = await startStoredTaskWatcher({
    engineUrl: engine.url,
    operatorSecret: SECRET,
    l2: { rpcUrl: chain().rpcUrl, attestationCenter: String(operatorList.target) },
    operators: new Map([[operator.address.toLowerCase(), OPERATOR_KEY!]]),
    pollMs: 50,
    syncMs: 100,
  });
  watchers.push(w);
  return w;
}

/** Creates the task and waits until every watcher watches it. */
async function create(doc: Record<string, unknown>, ws: StoredTaskWatcher[]): Promise<string> {
  const r = await call(engine.url, "POST", "/workflows", token, doc);
  expect(r.status, r.text).toBe(201);
  const id = r.body.id as string;
  await until(async () => ws.every((w) => w.watching().includes(id)), "the watchers to watch the task");
  return id;
}

async function executions(id: string): Promise<any[]> {
  const r = await call(engine.url, "GET", `/workflows/${id}/executions?limit=200`, token);
  expect(r.status).toBe(200);
  return r.body.items;
}

const flowWith = (trigger: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: "watched",
  trigger: { id: "trigger", name: "trig", ...trigger },
  nodes: [
    { id: "c", name: "c", type: "customCode", config: { lang: "javascript", source: "return trig.data" } },
  ],
  edges: [{ id: "e1", source: "trigger", target: "c" }],
  ...extra,
});

beforeAll(async () => {
  const network = Network.from(31337);
  const provider = new JsonRpcProvider(chain().rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 50,
    cacheTimeout: -1,
  });
  const deployer = new Wallet(DEPLOYER_KEY!, provider);
  ({ emitter, operatorList } = await deployTriggerContracts(deployer));
  await (await (operatorList as any).setActive([operator.address])).wait();
  engine = await startEngineProcess({ operatorSecret: SECRET });
  token = await signIn(engine.url, Wallet.createRandom());
}, 60_000);

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
});

afterAll(async () => {
  await Promise.all(watchers.map((w) => w.stop()));
  await engine?.stop();
});

describe("stored-task triggers", () => {
  it("the operator routes refuse a caller without the operator secret", async () => {
    expect((await call(engine.url, "GET", "/operator/tasks", token)).status).toBe(401);
    const wrong = await fetch(`${engine.url}/operator/tasks`, {
      headers: { authorization: "Operator nope" },
    });
    expect(wrong.status).toBe(403);
  });

  it("cron every second with maxExecution 3: exactly 3 executions, then completed", async () => {
    const w = await watcher();
    const id = await create(
      flowWith({ type: "cron", config: { schedules: ["* * * * * *"] } }, { maxExecution: 3 }),
      [w],
    );
    await until(
      async () => (await call(engine.url, "GET", `/workflows/${id}`, token)).body.status === "completed",
      "the task to complete",
      30_000,
    );
    // a firing after the third is refused, and the watcher drops the task
    await until(async () => !w.watching().includes(id), "the watcher to drop the completed task", 10_000);
    await w.idle();
    const runs = await executions(id);
    expect(runs).toHaveLength(3);
    expect(runs.every((e) => e.status === "success" && e.triggerReason.type === "cron")).toBe(true);
    const epochs = runs.map((e) => e.triggerReason.epoch as number);
    expect(new Set(epochs).size).toBe(3);
    expect(epochs.every((e) => e % 1000 === 0)).toBe(true);
    expect((await call(engine.url, "GET", `/workflows/${id}`, token)).body.totalExecution).toBe(3);
  }, 60_000);

  it("a block trigger every 2 blocks fires on every 2nd block", async () => {
    const w = await watcher();
    const id = await create(flowWith({ type: "block", config: { interval: 2 } }), [w]);
    const from = Number.parseInt(await rpc<string>(chain().rpcUrl, "eth_blockNumber"), 16);
    await rpc(chain().rpcUrl, "anvil_mine", ["0x7"]);
    const expected: number[] = [];
    for (let b = from + 1; b <= from + 7; b++) if (b % 2 === 0) expected.push(b);
    const runs = await until(async () => {
      const items = await executions(id);
      return items.length >= expected.length && items.every((e) => e.status !== "queued") ? items : false;
    }, "the block firings");
    await w.idle();
    await call(engine.url, "POST", `/workflows/${id}:cancel`, token);
    const blocks = (await executions(id))
      .map((e) => e.triggerReason.blockNumber as number)
      .sort((a, b) => a - b);
    expect(blocks).toEqual(expected);
    expect(runs.every((e) => e.triggerReason.type === "block")).toBe(true);
    expect(runs.every((e) => e.triggerData.blockNumber === e.triggerReason.blockNumber)).toBe(true);
  }, 60_000);

  it("the engine's process runs the watcher itself when the environment names the chain and keys", async () => {
    const own = await startEngineProcess({
      operatorSecret: SECRET,
      env: {
        AVSCTL_ENGINE_WATCH_L2_RPC: chain().rpcUrl,
        AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER: String(operatorList.target),
        AVSCTL_ENGINE_WATCH_OPERATOR_KEYS: OPERATOR_KEY!,
      },
    });
    try {
      const ownToken = await signIn(own.url, Wallet.createRandom());
      const r = await call(
        own.url,
        "POST",
        "/workflows",
        ownToken,
        flowWith({ type: "block", config: { interval: 1 } }),
      );
      expect(r.status).toBe(201);
      // mine until its watcher has seen the task and reported a block firing
      const runs = await until(async () => {
        await rpc(chain().rpcUrl, "anvil_mine", ["0x1"]);
        const items = (await call(own.url, "GET", `/workflows/${r.body.id}/executions`, ownToken)).body.items;
        return items.length > 0 ? items : false;
      }, "the in-process watcher to report a block firing");
      expect(runs[0].triggerReason.type).toBe("block");
      await call(own.url, "POST", `/workflows/${r.body.id}:cancel`, ownToken);
    } finally {
      await own.stop();
    }
  }, 60_000);

  it("an event trigger fires once per log, with the log, though two watchers report each", async () => {
    const ws = [await watcher(), await watcher()];
    const topic = topicId("Ping(uint256,uint256)");
    const id = await create(
      flowWith({
        type: "event",
        config: { queries: [{ addresses: [String(emitter.target)], topics: [{ values: [topic] }] }] },
      }),
      ws,
    );
    const e = emitter as any;
    const receipts = [
      await (await e.ping(1n, 10n)).wait(),
      await (await e.ping(2n, 20n)).wait(),
      await (await e.pingTwice(3n)).wait(),
    ];
    const logs = receipts.flatMap((r: any) =>
      r.logs.map((l: any) => ({ txHash: l.transactionHash as string, logIndex: l.index as number })),
    );
    expect(logs).toHaveLength(4);
    await until(
      async () =>
        ws.every((w) =>
          logs.every((l) =>
            w
              .reports()
              .some(
                (r) => r.taskId === id && r.reason.txHash === l.txHash && r.reason.logIndex === l.logIndex,
              ),
          ),
        ),
      "both watchers to report every log",
    );
    await Promise.all(ws.map((w) => w.idle()));
    const runs = await executions(id);
    expect(runs).toHaveLength(4);
    const seen = runs.map((r) => `${r.triggerReason.txHash}:${r.triggerReason.logIndex}`).sort();
    expect(seen).toEqual(logs.map((l) => `${l.txHash}:${l.logIndex}`).sort());
    for (const run of runs) {
      expect(run.triggerData.transactionHash).toBe(run.triggerReason.txHash);
      expect(run.triggerData.logIndex).toBe(run.triggerReason.logIndex);
      expect(run.triggerData.address.toLowerCase()).toBe(String(emitter.target).toLowerCase());
      expect(run.triggerData.topics[0]).toBe(topic);
    }
    const outcomes = ws.flatMap((w) =>
      w
        .reports()
        .filter((r) => r.taskId === id)
        .map((r) => r.outcome),
    );
    expect(outcomes.filter((o) => o === "reported")).toHaveLength(4);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(4);
    await call(engine.url, "POST", `/workflows/${id}:cancel`, token);
  }, 60_000);

  it("event topics as a signature and a short indexed value match exactly their logs; a signature of another event matches none", async () => {
    const w = await watcher();
    const address = String(emitter.target);
    const queries = (topics: unknown[]) => ({ queries: [{ addresses: [address], topics }] });
    // created first, so each poll reads its logs before those of the tasks after it
    const pong = await create(flowWith({ type: "event", config: queries(["Pong(uint256)"]) }), [w]);
    // short hex is no topic0 (an event's is its 32-byte hash): refused, not read as any
    const refused = await call(
      engine.url,
      "POST",
      "/workflows",
      token,
      flowWith({ type: "event", config: queries([{ values: ["0x2b"] }]) }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.errors).toMatchObject([
      { code: "WF_INVALID_TRIGGER_CONFIG", path: "trigger.config.queries[0].topics[0].values[0]" },
    ]);
    const kind2 = await create(
      flowWith({ type: "event", config: queries(["Ping(uint256,uint256)", "0x2"]) }),
      [w],
    );
    const e = emitter as any;
    const receipts = [
      await (await e.ping(1n, 10n)).wait(),
      await (await e.ping(2n, 20n)).wait(),
      await (await e.pingTwice(3n)).wait(),
      await (await e.ping(2n, 21n)).wait(),
    ];
    const kind2Logs = [receipts[1], receipts[3]].map((r: any) => `${r.hash}:${r.logs[0].index}`);
    await until(
      async () =>
        kind2Logs.every((l) =>
          w.reports().some((r) => r.taskId === kind2 && `${r.reason.txHash}:${r.reason.logIndex}` === l),
        ),
      "the watcher to report the kind 2 logs",
    );
    await w.idle();
    const runs = await executions(kind2);
    expect(runs.map((r) => `${r.triggerReason.txHash}:${r.triggerReason.logIndex}`).sort()).toEqual(
      [...kind2Logs].sort(),
    );
    for (const run of runs) {
      expect(run.triggerData.topics).toEqual([topicId("Ping(uint256,uint256)"), `0x${"0".repeat(63)}2`]);
    }
    expect(w.reports().filter((r) => r.taskId === pong)).toEqual([]);
    expect(await executions(pong)).toEqual([]);
    for (const id of [pong, kind2]) await call(engine.url, "POST", `/workflows/${id}:cancel`, token);
  }, 60_000);

  // last: it moves the chain's clock ahead of wall time for good
  it("after the chain's clock jumps ahead, a new cron or fixedTime task fires no slot from before its creation, then each slot the chain reaches once", async () => {
    const l2 = chain().rpcUrl;
    await rpc(l2, "evm_increaseTime", [180]);
    await rpc(l2, "evm_mine");
    // started after the jump, it has read the chain's clock before it sees a task
    const w = await watcher();
    // slots between wall time and the chain's (3 minutes ahead): before creation on the chain's clock
    const passed = Math.floor((Date.now() + 90_000) / 60_000) * 60_000;
    const at = new Date(passed);
    const daily = await create(
      flowWith({ type: "cron", config: { schedules: [`${at.getUTCMinutes()} ${at.getUTCHours()} * * *`] } }),
      [w],
    );
    const past = await create(flowWith({ type: "fixedTime", config: { epochs: [passed] } }), [w]);
    const future = passed + 3_600_000;
    const ahead = await create(flowWith({ type: "fixedTime", config: { epochs: [future] } }), [w]);
    // a slot fired at sight is reported by then
    await w.idle();
    expect(w.reports().filter((r) => [daily, past, ahead].includes(r.taskId))).toEqual([]);

    // a day later on the chain: tomorrow's slot and the hour-ahead time came, once each
    await rpc(l2, "evm_increaseTime", [86_400]);
    await rpc(l2, "evm_mine");
    const tomorrow = passed + 86_400_000;
    await until(
      async () =>
        [daily, ahead].every((id) => w.reports().some((r) => r.taskId === id && r.outcome === "reported")),
      "the cron and the fixed time ahead to fire",
      30_000,
    );
    await w.idle();
    expect((await executions(daily)).map((e) => e.triggerReason)).toEqual([
      { type: "cron", epoch: tomorrow },
    ]);
    expect((await executions(ahead)).map((e) => e.triggerReason)).toEqual([
      { type: "fixedTime", epoch: future },
    ]);
    expect(await executions(past)).toEqual([]);
    expect(w.reports().filter((r) => r.taskId === past)).toEqual([]);
    for (const id of [daily, past, ahead]) await call(engine.url, "POST", `/workflows/${id}:cancel`, token);
  }, 60_000);
});
