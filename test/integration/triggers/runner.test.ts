/**
 * The trigger runner against real anvil chains with our contracts, the real aggregator (a node
 * process, which checks every task as in production: signature, active performer, task
 * definition), and contracts compiled with solc (helpers/trigger-contracts.ts): an event emitter
 * and an operator registry whose getActiveOperatorsDetails() the runners elect from, so a test can
 * change the active set.
 */

import {
  AbiCoder,
  type Contract,
  getAddress,
  JsonRpcProvider,
  keccak256,
  Network,
  toBeHex,
  Wallet,
  zeroPadValue,
} from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { attestationCenter } from "../../../src/chain/contracts.js";
import { jsonRpc } from "../../../src/chain/json-rpc.js";
import { startSampleExecution } from "../../../src/devnet/samples/sample-services.js";
import {
  type FiringRecord,
  startTriggerRunner,
  type TriggerRunnerHandle,
  type TriggerRunnerOptions,
} from "../../../src/triggers/runner.js";
import { eventTopic } from "../../../src/triggers/schedule.js";
import { fetchTriggerStatus } from "../../../src/triggers/status-client.js";
import { sleep } from "../../../src/util/sleep.js";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS } from "../../helpers/anvil.js";
import {
  buildNodeEntry,
  startAggregatorProcess,
  startTestNetwork,
  type TestNetwork,
} from "../../helpers/node.js";
import { deployTriggerContracts } from "../../helpers/trigger-contracts.js";

const CHAIN_ID = 31338;

// The test network registers keys 1..5 as operators (1: its aggregator, 2..4: attesters with
// stake, 5: its performer), so A, B and C are all active on its AttestationCenter.
const [DEPLOYER_KEY, A_KEY, B_KEY] = ANVIL_DEV_PRIVATE_KEYS;
const A = ANVIL_DEV_ADDRESSES[1];
const B = ANVIL_DEV_ADDRESSES[2];
const C = ANVIL_DEV_ADDRESSES[3];
/** The tests use task definitions 1 (created by the test network) to 7. */
const TASK_DEFINITIONS = 7;

/** A task the aggregator accepted, from its "task accepted" log line. */
interface AcceptedTask {
  taskHash: string;
  performer: string;
  taskDefinitionId: number;
}

/**
 * The real aggregator, with no attesters: it accepts each valid task and nothing of it reaches
 * the chain (no verdict, no submitTask), so the chain's blocks stay the test's own. Its join
 * grace outlasts the test, so it neither refuses tasks nor ends them unreachable for want of
 * attesters.
 */
async function startRealAggregator(net: TestNetwork) {
  const { aggregator: node, rpcUrl: url } = await startAggregatorProcess(await buildNodeEntry(), net, {
    joinGraceMs: 24 * 3600_000,
  });
  let from = 0;
  const refused = (r: Record<string, unknown>) => r.msg === "sendTask refused";
  /** Waits until every task accepted so far was logged and read, then returns the new ones. */
  const settle = async (): Promise<AcceptedTask[]> => {
    // A refused sendTask as a marker: the node logs in order, so once its line is read, the
    // line of every task accepted before it is too.
    const before = node.logs.filter(refused).length;
    await jsonRpc(url, "sendTask", []).catch(() => undefined);
    await node.waitFor((r) => refused(r) && node.logs.filter(refused).length > before, 15_000);
    return node.logs
      .slice(from)
      .filter((r) => r.msg === "task accepted")
      .map((r) => ({
        taskHash: r.taskHash as string,
        performer: getAddress(r.performer as string),
        taskDefinitionId: Number(r.taskDefinitionId),
      }));
  };
  return {
    url,
    /** The tasks accepted since the last reset(), in order. */
    accepted: settle,
    /** Forgets the tasks accepted so far (after each test). */
    async reset() {
      await settle();
      from = node.logs.length;
    },
    /** The proofOfTask the aggregator holds for a task. */
    async proofOf(taskHash: string): Promise<string> {
      return (await jsonRpc<{ proofOfTask: string }>(url, "avsctl_taskStatus", [taskHash])).proofOfTask;
    },
    stop: () => node.stop(),
  };
}

/** docs/protocol.md#task-hash-and-signatures, written out independently of src/crypto. */
const expectedTaskHash = (proofOfTask: string, data: string, performer: string, taskDefinitionId: number) =>
  keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "bytes", "address", "uint16"],
      [proofOfTask, data, performer, taskDefinitionId],
    ),
  );

interface Receipt {
  hash: string;
  blockNumber: number;
  logs: Array<{ topics: readonly string[]; index: number }>;
}

/** Sends a contract call and waits for its receipt (automine: the next block). */
async function transact(contract: Contract, fn: string, ...args: unknown[]): Promise<Receipt> {
  const tx = await contract.getFunction(fn)(...args);
  return (await tx.wait()) as Receipt;
}

/** Polls a condition, bounded in time. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until the runner has processed block `n` and every firing it caused is settled. */
async function caughtUp(runner: TriggerRunnerHandle, n: number): Promise<void> {
  await until(`the runner to see block ${n}`, () => (runner.lastBlock() ?? -1) >= n);
  await runner.idle();
}

/** One call to the test network's L2. */
const l2 = <T = unknown>(method: string, params: unknown[] = []) => jsonRpc<T>(net.l2.rpcUrl, method, params);
const head = async () => Number(await l2<string>("eth_blockNumber"));
const ids = (records: FiringRecord[]) => records.map((r) => r.blockNumber);
const fakeOperators =
  (...addresses: string[]) =>
  async () =>
    addresses.map((operator, i) => ({ operator, operatorId: i + 1 }));
const keysOf = (...keys: string[]) => new Map(keys.map((k) => [new Wallet(k).address.toLowerCase(), k]));

let net: TestNetwork;
let aggregator: Awaited<ReturnType<typeof startRealAggregator>>;
let provider: JsonRpcProvider;
let emitter: Contract;
let operatorList: Contract;
const runners: TriggerRunnerHandle[] = [];

function base(): Pick<TriggerRunnerOptions, "l2" | "send" | "pollMs"> {
  return {
    l2: { rpcUrl: net.l2.rpcUrl, attestationCenter: String(operatorList.target), chainId: CHAIN_ID },
    send: { via: "rpc", aggregatorUrl: aggregator.url },
    pollMs: 40,
  };
}

async function start(opts: TriggerRunnerOptions): Promise<TriggerRunnerHandle> {
  const runner = await startTriggerRunner(opts);
  runners.push(runner);
  return runner;
}

beforeAll(async () => {
  net = await startTestNetwork({ l2ChainIds: [CHAIN_ID] });
  const network = Network.from(CHAIN_ID);
  provider = new JsonRpcProvider(net.l2.rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 50,
    cacheTimeout: -1,
  });
  const deployer = new Wallet(DEPLOYER_KEY!, provider);
  const create = attestationCenter(net.attestationCenter, deployer).getFunction(
    "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
  );
  for (let id = 2; id <= TASK_DEFINITIONS; id++) {
    await (await create(`trigger-test-${id}`, [2n ** 64n - 1n, 0n, 0n, 0n, 0n, 0n, [], 0n])).wait();
  }
  ({ emitter, operatorList } = await deployTriggerContracts(deployer));
  aggregator = await startRealAggregator(net);
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await aggregator?.reset();
});

afterAll(async () => {
  provider?.destroy();
  await aggregator?.stop();
  await net?.stop();
});

describe("trigger runner", () => {
  it("fires an interval trigger at its pace, stops at maxFirings, serves its status and leaves no timer", async () => {
    const everyMs = 300;
    // Timers are counted around the runner's life. vitest arms a 100 ms timer of its own when a
    // test starts (to report it); the count starts once that one has fired.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await until("vitest's own timer to fire", () => timers() === 0);
    const timersBefore = timers();
    const t0 = Date.now();
    const runner = await start({
      ...base(),
      definitions: [
        {
          taskDefinitionId: 7,
          name: "price",
          triggers: [
            { type: "interval", everyMs, data: '{"n":{{n}},"slot":"{{scheduledAt}}"}' },
            { type: "interval", every: "100ms", maxFirings: 2 },
          ],
        },
      ],
      operators: keysOf(A_KEY!),
      activeOperators: fakeOperators(A),
      statusPort: 0,
    });
    await until("4 interval firings", () => runner.firings().filter((r) => r.trigger === "7#0").length >= 4);

    const status = await fetchTriggerStatus(runner.statusUrl!);
    expect(status.chainId).toBe(CHAIN_ID);
    expect(status.triggers.map((t) => [t.id, t.type, t.description])).toEqual([
      ["7#0", "interval", "every 300ms"],
      ["7#1", "interval", "every 100ms, at most 2 firings"],
    ]);
    expect(status.triggers[0]).toMatchObject({
      taskDefinitionId: 7,
      taskDefinitionName: "price",
      nextBlock: null,
      done: false,
    });
    expect(Date.parse(status.triggers[0]!.nextFiring!) % everyMs).toBe(0);
    expect(status.triggers[0]!.lastFiring).toMatchObject({ trigger: "7#0", outcome: "sent" });
    expect(status.triggers[1]).toMatchObject({ firings: 2, sent: 2, done: true, nextFiring: null });
    expect(await (await fetch(`${runner.statusUrl}/health`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${runner.statusUrl}/nothing`)).status).toBe(404);

    expect(timers()).toBeGreaterThan(timersBefore);
    await runner.stop();
    const t1 = Date.now();
    await runner.idle();
    expect(timers()).toBe(timersBefore);
    await expect(fetch(`${runner.statusUrl}/health`)).rejects.toThrow();
    await expect(fetchTriggerStatus(runner.statusUrl!)).rejects.toMatchObject({ code: "RPC_UNREACHABLE" });

    const paced = runner.firings().filter((r) => r.trigger === "7#0");
    // Never faster than the pace: one firing per slot, slots on the interval's grid.
    expect(paced.length).toBeLessThanOrEqual(Math.floor((t1 - t0) / everyMs) + 1);
    const slots = paced.map((r) => Date.parse(r.scheduledAt!));
    for (const [i, slot] of slots.entries()) {
      expect(slot % everyMs).toBe(0);
      if (i > 0) expect(slot).toBeGreaterThan(slots[i - 1]!);
      expect(Date.parse(paced[i]!.firedAt)).toBeGreaterThanOrEqual(slot);
    }
    expect(paced.map((r) => r.n)).toEqual(paced.map((_, i) => i + 1));
    expect(paced.every((r) => r.outcome === "sent" && r.performer === A && r.blockNumber !== null)).toBe(
      true,
    );

    // Every recorded task reached the aggregator, signed by the performer, with the rendered data.
    const all = runner.firings();
    const accepted = await aggregator.accepted();
    expect(accepted.map((c) => c.taskHash).sort()).toEqual(all.map((r) => r.taskHash).sort());
    expect(accepted.every((c) => c.performer === A && c.taskDefinitionId === 7)).toBe(true);
    // The accepted task hash binds the data: the aggregator got exactly the recorded data.
    const first = paced[0]!;
    const proof = await aggregator.proofOf(first.taskHash!);
    expect(expectedTaskHash(proof, first.data!, A, 7)).toBe(first.taskHash);
    expect(JSON.parse(Buffer.from(first.data!.slice(2), "hex").toString("utf8"))).toEqual({
      n: 1,
      slot: paced[0]!.scheduledAt,
    });
  });

  it("fires a block trigger on every N-th block and performs only when elected", async () => {
    const runner = await start({
      ...base(),
      definitions: [{ taskDefinitionId: 3, triggers: [{ type: "block", everyBlocks: 3 }] }],
      operators: keysOf(A_KEY!),
      activeOperators: fakeOperators(A, B),
    });
    const h0 = await head();
    await caughtUp(runner, h0);
    await l2("anvil_mine", ["0x4"]);
    await l2("evm_mine");
    await l2("evm_mine");
    await l2("anvil_mine", ["0x5"]);
    const h1 = h0 + 11;
    expect(await head()).toBe(h1);
    await caughtUp(runner, h1);

    const expected: number[] = [];
    for (let b = h0 + 1; b <= h1; b++) if (b % 3 === 0) expected.push(b);
    const records = runner.firings();
    expect(ids(records)).toEqual(expected);
    for (const r of records) {
      // Round robin over [A, B]: A performs on even blocks, B (not held here) on odd ones.
      const leader = r.blockNumber! % 2 === 0 ? A : B;
      expect(r).toMatchObject({ performer: leader, outcome: leader === A ? "sent" : "skipped" });
    }
    expect((await aggregator.accepted()).map((c) => c.taskHash)).toEqual(
      records.filter((r) => r.outcome === "sent").map((r) => r.taskHash),
    );
    const [status] = runner.status();
    expect(status).toMatchObject({ type: "block", description: "every 3 blocks", nextFiring: null });
    expect(status!.nextBlock).toBe(Math.floor(h1 / 3) * 3 + 3);
    expect(status!.firings).toBe(expected.length);
  });

  it("fires an event trigger once per matching log, and its cooldown by block time", async () => {
    const execution = await startSampleExecution({ aggregatorUrl: aggregator.url, performerKey: A_KEY! });
    try {
      const ping = eventTopic("Ping(uint256,uint256)");
      const kind = (k: number) => zeroPadValue(toBeHex(k), 32);
      const runner = await start({
        ...base(),
        send: { via: "execution", executionUrl: execution.url, performer: A, aggregatorUrl: aggregator.url },
        definitions: [
          {
            taskDefinitionId: 2,
            triggers: [
              {
                type: "event",
                address: String(emitter.target),
                topics: ["Ping(uint256,uint256)", kind(1)],
                data: '{"tx":"{{txHash}}","i":{{logIndex}},"topic0":"{{topic0}}"}',
              },
              {
                type: "event",
                address: String(emitter.target),
                topics: [ping, [kind(3)]],
                cooldownMs: 60_000,
              },
            ],
          },
        ],
        operators: keysOf(A_KEY!),
        activeOperators: fakeOperators(A),
      });
      const user = new Wallet(DEPLOYER_KEY!, provider);
      const e = emitter.connect(user) as Contract;

      const kind1: string[] = [];
      for (const tx of [
        () => transact(e, "ping", 1, 10),
        () => transact(e, "ping", 2, 20),
        () => transact(e, "ping", 1, 11),
        () => transact(e, "pingTwice", 1),
      ]) {
        const receipt = await tx();
        for (const log of receipt.logs)
          if (log.topics[1] === kind(1)) kind1.push(`${receipt.hash}:${log.index}`);
      }
      expect(kind1).toHaveLength(4);

      // Cooldown 60 s of block time: fires at T+100, not at T+110, again at T+170, then once in a block of two.
      const block = await provider.getBlock("latest");
      const t = block!.timestamp;
      const kind3: Array<{ hash: string; at: number }> = [];
      for (const [offset, tx] of [
        [100, () => transact(e, "ping", 3, 1)],
        [110, () => transact(e, "ping", 3, 2)],
        [170, () => transact(e, "ping", 3, 3)],
        [300, () => transact(e, "pingTwice", 3)],
      ] as const) {
        await l2("evm_setNextBlockTimestamp", [t + offset]);
        kind3.push({ hash: (await tx()).hash, at: offset });
      }
      await caughtUp(runner, await head());

      const records = runner.firings();
      const first = records.filter((r) => r.trigger === "2#0");
      expect(first.map((r) => `${r.log!.txHash}:${r.log!.logIndex}`).sort()).toEqual([...kind1].sort());
      expect(first.every((r) => r.outcome === "sent" && r.blockNumber === r.log!.blockNumber)).toBe(true);
      const second = records.filter((r) => r.trigger === "2#1");
      expect(second.map((r) => r.log!.txHash)).toEqual([kind3[0]!.hash, kind3[2]!.hash, kind3[3]!.hash]);
      expect(runner.status()[1]).toMatchObject({ firings: 3, sent: 3, suppressed: 2, nextBlock: null });

      // The execution service sent each task with the rendered data, as the performer it signs for.
      const accepted = await aggregator.accepted();
      expect(accepted).toHaveLength(records.length);
      expect(accepted.map((c) => c.taskHash).sort()).toEqual(records.map((r) => r.taskHash).sort());
      expect(accepted.every((c) => c.performer === A && c.taskDefinitionId === 2)).toBe(true);
      const sample = first[0]!;
      const proof = await aggregator.proofOf(sample.taskHash!);
      expect(expectedTaskHash(proof, sample.data!, A, 2)).toBe(sample.taskHash);
      expect(JSON.parse(Buffer.from(sample.data!.slice(2), "hex").toString("utf8"))).toEqual({
        tx: sample.log!.txHash,
        i: sample.log!.logIndex,
        topic0: ping,
      });
    } finally {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await execution.stop();
    }
  });

  it("with two runners holding different keys, one performer fires per firing (operators read on-chain)", async () => {
    const deployer = new Wallet(DEPLOYER_KEY!, provider);
    const list = operatorList.connect(deployer) as Contract;
    await transact(list, "setActive", [A, B]);
    const opts = (key: string): TriggerRunnerOptions => ({
      ...base(),
      definitions: [{ taskDefinitionId: 5, triggers: [{ type: "block", everyBlocks: 1 }] }],
      operators: keysOf(key),
    });
    const one = await start(opts(A_KEY!));
    const two = await start(opts(B_KEY!));
    const h0 = await head();
    await caughtUp(one, h0);
    await caughtUp(two, h0);

    await l2("anvil_mine", ["0x6"]);
    // A new operator set from this block on: [B, A, C], and nobody here holds C's key.
    const changedAt = (await transact(list, "setActive", [B, A, C])).blockNumber;
    await l2("anvil_mine", ["0x6"]);
    const h1 = await head();
    expect(h1).toBe(h0 + 13);
    await caughtUp(one, h1);
    await caughtUp(two, h1);

    const expectedLeader = (b: number) => {
      const set = b >= changedAt ? [B, A, C] : [A, B];
      return set[b % set.length]!;
    };
    const byBlock = (r: TriggerRunnerHandle) => new Map(r.firings().map((f) => [f.blockNumber!, f]));
    const [fromOne, fromTwo] = [byBlock(one), byBlock(two)];
    let expectedSends = 0;
    for (let b = h0 + 1; b <= h1; b++) {
      const leader = expectedLeader(b);
      const x = fromOne.get(b)!;
      const y = fromTwo.get(b)!;
      expect([x.performer, y.performer]).toEqual([leader, leader]);
      const performers = [x, y].filter((r) => r.outcome === "sent");
      expect(performers).toHaveLength(leader === C ? 0 : 1);
      if (leader !== C) {
        expectedSends++;
        expect(performers[0]).toBe(leader === A ? x : y);
      }
      expect([x, y].every((r) => r.outcome !== "failed")).toBe(true);
    }
    expect(fromOne.size).toBe(13);
    expect(fromTwo.size).toBe(13);
    const accepted = await aggregator.accepted();
    expect(accepted).toHaveLength(expectedSends);
    expect(new Set(accepted.map((c) => c.performer))).toEqual(new Set([A, B]));
  });

  it("stops on abort, and refuses bad triggers and keys before starting anything", async () => {
    const controller = new AbortController();
    const runner = await start({
      ...base(),
      definitions: [
        {
          taskDefinitionId: 1,
          triggers: [
            { type: "block", everyBlocks: 1 },
            { type: "cron", expression: "* * * * * *" },
          ],
        },
      ],
      operators: keysOf(A_KEY!),
      activeOperators: fakeOperators(A),
      signal: controller.signal,
    });
    expect(runner.status()[1]!.nextFiring).not.toBeNull();
    controller.abort();
    await runner.stop();
    const h = await head();
    // A poller that outlived stop() would show itself on new blocks. A live runner polling as
    // often witnesses them: three blocks mined one by one, each waited for by the witness, give
    // such a poller at least as many turns as the witness took.
    const witness = await start({
      ...base(),
      definitions: [{ taskDefinitionId: 1, triggers: [{ type: "block", everyBlocks: 1 }] }],
      operators: new Map(),
      activeOperators: fakeOperators(A),
    });
    for (let i = 1; i <= 3; i++) {
      await l2("evm_mine");
      await caughtUp(witness, h + i);
    }
    expect(runner.status()[1]!.nextFiring).toBeNull();
    expect(runner.lastBlock()).toBeLessThanOrEqual(h);
    expect(runner.firings().filter((r) => r.blockNumber !== null && r.blockNumber > h)).toEqual([]);

    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "resolved",
        (error: { code?: string }) => error.code,
      );
    expect(
      await codeOf(
        startTriggerRunner({
          ...base(),
          definitions: [
            { taskDefinitionId: 1, triggers: [{ type: "interval", every: "5 minutes" } as never] },
          ],
          operators: new Map(),
        }),
      ),
    ).toBe("CONFIG_INVALID");
    expect(
      await codeOf(
        startTriggerRunner({
          ...base(),
          definitions: [],
          operators: new Map([[B.toLowerCase(), A_KEY!]]),
        }),
      ),
    ).toBe("INVALID_KEY");
    expect(
      await codeOf(
        startTriggerRunner({
          ...base(),
          l2: { ...base().l2, chainId: 1 },
          definitions: [],
          operators: new Map(),
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });

  it("time triggers follow the chain's clock: evm_increaseTime fires the slots it passed at once, once each", async () => {
    const hour = 3_600_000;
    const inHalfAnHour = new Date(Date.now() + hour / 2);
    const runner = await start({
      ...base(),
      definitions: [
        {
          taskDefinitionId: 6,
          triggers: [
            { type: "fixedTime", at: [Date.now() + hour] },
            // daily, half an hour from now: real time does not reach it during the test
            {
              type: "cron",
              expression: `${inHalfAnHour.getUTCMinutes()} ${inHalfAnHour.getUTCHours()} * * *`,
              timezone: "UTC",
            },
            { type: "interval", every: "1h", maxFirings: 1 },
          ],
        },
      ],
      operators: keysOf(A_KEY!),
      activeOperators: fakeOperators(A),
    });
    const [fixed, cron] = runner.status();
    expect(runner.firings().filter((r) => r.type !== "interval")).toEqual([]);

    await l2("evm_increaseTime", [3600]);
    await l2("evm_mine");
    await until("every time trigger to fire", () => runner.status().every((t) => t.firings === 1), 15_000);
    await runner.idle();
    // Whether the aggregator takes the tasks is not this test's matter: each slot fired once, elected.
    const firings = runner.firings();
    expect(firings.map((r) => r.type).sort()).toEqual(["cron", "fixedTime", "interval"]);
    expect(firings.every((r) => r.performer === A && r.blockNumber !== null)).toBe(true);
    const wallNow = Date.now();
    for (const r of firings) {
      expect(Date.parse(r.firedAt)).toBeGreaterThanOrEqual(Date.parse(r.scheduledAt!));
      // the slots were the chain's, ahead of the wall clock
      if (r.type !== "interval") expect(Date.parse(r.scheduledAt!)).toBeGreaterThan(wallNow);
    }
    expect(firings.find((r) => r.type === "fixedTime")!.scheduledAt).toBe(fixed!.nextFiring);
    expect(firings.find((r) => r.type === "cron")!.scheduledAt).toBe(cron!.nextFiring);
    // the cron's next slot is a day after the one fired; the fixed time has none left
    const after = runner.status();
    expect(Date.parse(after[1]!.nextFiring!) - Date.parse(cron!.nextFiring!)).toBe(24 * hour);
    expect(after[0]).toMatchObject({ done: true, nextFiring: null });
  });
});
