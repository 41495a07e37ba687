/**
 * Who performs an execution, and on which L2: the election the engine makes before it sends an
 * execution as an AVS task is the trigger runner's round robin over the L2's active operators
 * (a real anvil, with an operator list contract the test deploys), signed with the elected
 * operator's key; a workflow names its L2 with `trigger.config.chainId`, an unknown one is
 * refused at create, and the operators' watchers list the tasks of their own L2 only.
 */

import { type Contract, JsonRpcProvider, Network, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electFor, targetL2 } from "../../../src/task-engine/election.js";
import { electPerformer, readActiveOperators } from "../../../src/triggers/leader.js";
import { ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";
import { deployTriggerContracts } from "../../helpers/trigger-contracts.js";
import { call, flow, type Harness, signIn, startHarness } from "./helpers.js";

const chain = useAnvil({ chainId: 31337 });
const keys = ANVIL_DEV_PRIVATE_KEYS.slice(2, 5) as string[];
const operators = keys.map((k) => new Wallet(k));
let operatorList: Contract;
let provider: JsonRpcProvider;

beforeAll(async () => {
  const network = Network.from(31337);
  provider = new JsonRpcProvider(chain().rpcUrl, network, { staticNetwork: network, cacheTimeout: -1 });
  ({ operatorList } = await deployTriggerContracts(new Wallet(ANVIL_DEV_PRIVATE_KEYS[0]!, provider)));
  await (await (operatorList as any).setActive(operators.map((o) => o.address))).wait();
}, 60_000);
afterAll(() => provider?.destroy());

describe("electing an execution's performer", () => {
  const l2 = () => ({
    chainId: 31337,
    rpcUrl: chain().rpcUrl,
    attestationCenter: String(operatorList.target),
  });
  const operatorKeys = () => new Map(operators.map((o, i) => [o.address.toLowerCase(), keys[i]!]));
  const fresh = { performer: null, chainId: null, electedAt: null };

  it("rotates as the trigger runner's election does: by firing block, slot second, or the head", async () => {
    // three blocks after the operators were set: each is one the list answers at
    await rpc(chain().rpcUrl, "anvil_mine", ["0x3"]);
    const head = Number(await rpc<string>(chain().rpcUrl, "eth_blockNumber"));
    const active = await readActiveOperators(l2().rpcUrl, l2().attestationCenter, head);
    expect(active.map((a) => a.operator)).toEqual(operators.map((o) => o.address));
    const opts = { operatorKeys: operatorKeys(), performerKey: ANVIL_DEV_PRIVATE_KEYS[1]! };
    const seen = new Set<string>();
    for (const blockNumber of [head - 2, head - 1, head]) {
      const e = await electFor(opts, l2(), { ...fresh, triggerReason: { type: "block", blockNumber } });
      expect(e).toMatchObject({
        performer: electPerformer(active, blockNumber)!.operator,
        electedAt: blockNumber,
      });
      expect(new Wallet(e.key).address).toBe(e.performer);
      seen.add(e.performer);
    }
    expect(seen.size).toBe(3);
    const cron = await electFor(opts, l2(), {
      ...fresh,
      triggerReason: { type: "cron", epoch: 1_767_225_601_000 },
    });
    expect(cron).toMatchObject({
      electedAt: 1_767_225_601,
      performer: electPerformer(active, 1_767_225_601)!.operator,
    });
    const manual = await electFor(opts, l2(), { ...fresh, triggerReason: { type: "manual" } });
    expect(manual.electedAt).toBeGreaterThanOrEqual(head);
    expect(manual.performer).toBe(electPerformer(active, manual.electedAt)!.operator);
    // once elected, kept: a restart signs with the same operator
    const kept = { performer: operators[0]!.address, chainId: 31337, electedAt: 5 };
    expect(await electFor(opts, l2(), { ...kept, triggerReason: { type: "manual" } })).toMatchObject({
      performer: operators[0]!.address,
      key: keys[0],
      electedAt: 5,
    });
  });

  it("without operator keys the engine performs itself; an elected operator whose key it lacks is an error", async () => {
    const self = await electFor({ performerKey: ANVIL_DEV_PRIVATE_KEYS[1]! }, l2(), {
      ...fresh,
      triggerReason: { type: "manual" },
    });
    expect(self.performer).toBe(new Wallet(ANVIL_DEV_PRIVATE_KEYS[1]!).address);
    const partial = new Map([[operators[0]!.address.toLowerCase(), keys[0]!]]);
    await expect(
      electFor({ operatorKeys: partial, performerKey: ANVIL_DEV_PRIVATE_KEYS[1]! }, l2(), {
        ...fresh,
        // the second operator's turn
        triggerReason: { type: "block", blockNumber: 3 * 7 + 1 },
      }),
    ).rejects.toThrow(/holds no key of 0x[0-9a-fA-F]{40}, the elected performer/);
  });
});

describe("the L2 a workflow names", () => {
  let engine: Harness;
  let token: string;
  const SECRET = "operator-secret-for-chains";
  const l2s = [
    { chainId: 31337, rpcUrl: "http://127.0.0.1:1", attestationCenter: `0x${"11".repeat(20)}` },
    { chainId: 31338, rpcUrl: "http://127.0.0.1:1", attestationCenter: `0x${"22".repeat(20)}` },
  ];
  beforeAll(async () => {
    engine = await startHarness({
      operatorSecret: SECRET,
      attest: {
        aggregatorUrl: "http://127.0.0.1:1",
        performerKey: ANVIL_DEV_PRIVATE_KEYS[1]!,
        pinataUrl: "http://127.0.0.1:1",
        taskDefinitionId: 2,
        l2s,
      },
    });
    token = await signIn(engine.engine.url, Wallet.createRandom());
  });
  afterAll(() => engine?.close());

  const onChain = (chainId?: number) => {
    const doc = flow();
    const trigger = doc.trigger as { config: Record<string, unknown> };
    return {
      ...doc,
      trigger: { ...trigger, config: { ...trigger.config, ...(chainId ? { chainId } : {}) } },
    };
  };

  it("is the one its trigger names, else the first; one the engine lacks is refused at create", async () => {
    expect(targetL2(l2s, onChain(31338) as never)).toBe(l2s[1]);
    expect(targetL2(l2s, onChain() as never)).toBe(l2s[0]);
    expect(targetL2(l2s, onChain(5) as never)).toBeUndefined();
    const refused = await call(engine.engine.url, "POST", "/workflows", token, onChain(5));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.errors).toEqual([
      expect.objectContaining({ code: "WF_INVALID_TRIGGER_CONFIG", path: "trigger.config.chainId" }),
    ]);
    const bad = await call(engine.engine.url, "POST", "/workflows", token, onChain("x" as never));
    expect(bad.status).toBe(400);
  });

  it("the operators' task list of one L2 holds the tasks attested there", async () => {
    const second = await call(engine.engine.url, "POST", "/workflows", token, onChain(31338));
    const first = await call(engine.engine.url, "POST", "/workflows", token, onChain());
    const named = await call(engine.engine.url, "POST", "/workflows", token, onChain(31337));
    expect([second.status, first.status, named.status]).toEqual([201, 201, 201]);
    expect(second.body.trigger.config.chainId).toBe(31338);
    const list = async (query: string) => {
      const r = await fetch(`${engine.engine.url}/operator/tasks${query}`, {
        headers: { authorization: `Operator ${SECRET}` },
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { items: Array<{ id: string }> }).items.map((t) => t.id);
    };
    expect(await list("?chainId=31338")).toEqual([second.body.id]);
    expect(await list("?chainId=31337")).toEqual([first.body.id, named.body.id]);
    expect(await list("")).toEqual([second.body.id, first.body.id, named.body.id]);
    const bad = await fetch(`${engine.engine.url}/operator/tasks?chainId=zero`, {
      headers: { authorization: `Operator ${SECRET}` },
    });
    expect(bad.status).toBe(400);
  });
});
