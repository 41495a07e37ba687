/**
 * The trigger runner's parts without a chain: trigger state and its status, the election with
 * its per-block operator cache, and firing's records for a runner that holds no elected key
 * (nothing is sent, so nothing needs a network).
 */

import { describe, expect, it } from "vitest";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import { offsetSeconds } from "../../../src/triggers/chain-time.js";
import { Clock } from "../../../src/triggers/clock.js";
import { Election, operatorKeys } from "../../../src/triggers/election.js";
import { Firing } from "../../../src/triggers/firing.js";
import { triggerStates, triggerStatus } from "../../../src/triggers/state.js";
import type { FiringRecord } from "../../../src/triggers/types.js";

const [A, B] = [ANVIL_DEV_ADDRESSES[1]!, ANVIL_DEV_ADDRESSES[2]!];
const operators = [A, B].map((operator, i) => ({ operator, operatorId: i + 1 }));

function election(keys: Map<string, string>, source = async () => operators) {
  return new Election({
    keys,
    epochBlocks: 1,
    source,
    rpcUrl: "http://127.0.0.1:1",
    attestationCenter: "0x0000000000000000000000000000000000000000",
    signal: new AbortController().signal,
  });
}

describe("trigger state", () => {
  it("names every problem by its definitions[i].triggers[j] path", () => {
    const error = (() => {
      try {
        triggerStates([
          { taskDefinitionId: 0, triggers: [] },
          { taskDefinitionId: 2, triggers: [{ type: "interval", every: "5 minutes" } as never] },
        ]);
      } catch (e) {
        return e as { code: string; details: { problems: Array<{ path: string }> } };
      }
    })();
    expect(error?.code).toBe("CONFIG_INVALID");
    expect(error?.details.problems.map((p) => p.path)).toEqual([
      "definitions[0].taskDefinitionId",
      "definitions[1].triggers[0].every",
    ]);
  });

  it("shows a block trigger's next block from the last block seen", () => {
    const states = triggerStates([
      { taskDefinitionId: 4, name: "x", triggers: [{ type: "block", everyBlocks: 5, offset: 1 }] },
    ]);
    expect(triggerStatus(states, null)[0]).toMatchObject({ id: "4#0", nextBlock: null, firings: 0 });
    expect(triggerStatus(states, 11)[0]).toMatchObject({
      taskDefinitionName: "x",
      description: "every 5 blocks (offset 1)",
      nextBlock: 16,
    });
  });
});

describe("election", () => {
  it("refuses a key that is not its operator's", async () => {
    await expect(
      operatorKeys(new Map([[B.toLowerCase(), ANVIL_DEV_PRIVATE_KEYS[1]!]])),
    ).rejects.toMatchObject({
      code: "INVALID_KEY",
    });
    await expect(operatorKeys(new Map([[A, "0x1234"]]))).rejects.toMatchObject({ code: "INVALID_KEY" });
  });

  it("elects round robin, performs only with the leader's key, and reads each block's operators once", async () => {
    let reads = 0;
    const keys = await operatorKeys(new Map([[A, ANVIL_DEV_PRIVATE_KEYS[1]!]]));
    const e = election(keys, async () => {
      reads++;
      return operators;
    });
    expect(await e.elect(10)).toEqual({ leader: operators[0], key: ANVIL_DEV_PRIVATE_KEYS[1] });
    expect(await e.elect(11)).toEqual({ leader: operators[1], key: undefined });
    await e.elect(10);
    expect(reads).toBe(2);
    await expect(election(keys, async () => []).elect(3)).rejects.toMatchObject({ code: "COMMAND_FAILED" });
  });
});

describe("firing", () => {
  it("records a skip when another operator performs, counts it, and stops a trigger at maxFirings", async () => {
    const seen: FiringRecord[] = [];
    const [state] = triggerStates([
      { taskDefinitionId: 9, triggers: [{ type: "block", everyBlocks: 1, maxFirings: 2 }] },
    ]);
    const firing = new Firing({
      send: { via: "rpc", aggregatorUrl: "http://127.0.0.1:1" },
      election: election(new Map([[A.toLowerCase(), ANVIL_DEV_PRIVATE_KEYS[1]!]])),
      chainId: 31338,
      readHead: async () => 0,
      maxRecords: 1,
      onFiring: (r) => seen.push(r),
      signal: new AbortController().signal,
    });
    // Blocks 1 and 3 elect B, whose key this runner does not hold; block 5 comes after maxFirings.
    for (const blockNumber of [1, 3, 5]) firing.fire(state!, { blockNumber });
    await firing.idle();
    expect(seen.map((r) => [r.blockNumber, r.n, r.outcome, r.performer])).toEqual([
      [1, 1, "skipped", B],
      [3, 2, "skipped", B],
    ]);
    expect(firing.list()).toEqual([seen[1]]);
    expect(triggerStatus([state!], 5)[0]).toMatchObject({
      firings: 2,
      skipped: 2,
      done: true,
      nextBlock: null,
    });
  });
});

describe("the chain's clock offset", () => {
  it("is exact from a pending timestamp read within one second, and keeps the last one when a read crosses a second", () => {
    const wall = 1_800_000_000_000;
    // the chain is an hour ahead; the read took 200 ms inside one wall second
    expect(offsetSeconds(wall / 1000 + 3600, wall + 100, wall + 300, 0)).toBe(3600);
    // a read across a second boundary: either offset fits, the last one is kept
    expect(offsetSeconds(wall / 1000 + 3600, wall - 100, wall + 100, 3600)).toBe(3600);
    expect(offsetSeconds(wall / 1000 + 3600, wall - 100, wall + 100, 3601)).toBe(3601);
    // neither fits the last one: the smaller, which fires a slot late rather than early
    expect(offsetSeconds(wall / 1000 + 3600, wall - 100, wall + 100, 0)).toBe(3600);
  });
});

describe("the clock, for a task seen late", () => {
  it("fires a fixed time that passed after `since` at once, and only that slot", () => {
    const now = 1_800_000_000_000;
    const time = { now: () => now };
    const fired: number[] = [];
    const clock = new Clock((_s, ctx) => fired.push(ctx.scheduledAt!), time);
    const [late] = triggerStates([
      { taskDefinitionId: 1, triggers: [{ type: "fixedTime", at: [now - 120_000, now - 1_000] }] },
    ]);
    // seen a minute after its creation: the slot before that is not replayed, the one after fires
    clock.arm(late!, now - 60_000);
    expect(fired).toEqual([now - 1_000]);
    expect(late!.done).toBe(true);
    // armed without `since`, a passed slot is not fired
    const [plain] = triggerStates([
      { taskDefinitionId: 2, triggers: [{ type: "fixedTime", at: [now - 1_000] }] },
    ]);
    clock.arm(plain!);
    expect(fired).toEqual([now - 1_000]);
    clock.stop([late!, plain!]);
  });
});
