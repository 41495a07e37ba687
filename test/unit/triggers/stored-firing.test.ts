import { id } from "ethers";
import { describe, expect, it } from "vitest";
import { firingKey } from "../../../src/task-engine/lifecycle.js";
import {
  electionNumber,
  type LiveTask,
  storedReason,
  storedTriggerData,
  storedTriggers,
  syncPlan,
  topicsOf,
} from "../../../src/triggers/stored-firing.js";

const T0 = `0x${"a".repeat(64)}`;
const T1 = `0x${"B".repeat(64)}`;
const ADDRESS = `0x${"1".repeat(40)}`;

const live = (id: string, type: string, config: Record<string, unknown>): LiveTask => ({
  id,
  trigger: { id: "t", name: "t", type, config },
  status: "active",
  startAt: 0,
  expiredAt: 0,
  maxExecution: 0,
  totalExecution: 0,
});

describe("stored task triggers as the runner's triggers", () => {
  it("maps fixedTime, cron, block and event; manual has none", () => {
    expect(storedTriggers(live("a", "manual", {}))).toEqual([]);
    expect(storedTriggers(live("a", "fixedTime", { epochs: [3000, 1000] }))).toEqual([
      { type: "fixedTime", at: [1000, 3000] },
    ]);
    expect(storedTriggers(live("a", "cron", { schedules: ["* * * * * *", "0 * * * *"] }))).toEqual([
      { type: "cron", expression: "* * * * * *", timezone: "UTC" },
      { type: "cron", expression: "0 * * * *", timezone: "UTC" },
    ]);
    expect(storedTriggers(live("a", "block", { interval: 2 }))).toEqual([
      { type: "block", everyBlocks: 2, offset: 0 },
    ]);
    expect(
      storedTriggers(
        live("a", "event", { queries: [{ addresses: [ADDRESS, "nope"], topics: [{ values: [T0] }] }] }),
      ),
    ).toEqual([{ type: "event", address: ADDRESS, topics: [T0], cooldownMs: 0 }]);
  });

  it("reads Ava's {values} topics and eth_getLogs' positional topics", () => {
    expect(topicsOf([{ values: [T0, null, T1] }])).toEqual([T0, null, T1.toLowerCase()]);
    expect(topicsOf([T0, [T0, T1], null, ""])).toEqual([T0, [T0, T1.toLowerCase()]]);
    expect(topicsOf(undefined)).toEqual([]);
  });

  it("reads a signature topic0 as its hash and a short indexed topic as its 32-byte value; an unreadable topic matches nothing, not anything", () => {
    const pong = id("Pong(uint256)");
    expect(topicsOf(["Pong(uint256)", "0x2B"])).toEqual([pong, `0x${"0".repeat(62)}2b`]);
    expect(topicsOf([{ values: ["Pong( uint256 )"] }])).toEqual([pong]);
    for (const bad of [["0x2b"], [T0, "Pong(uint256)"], [T0, 42], [{ values: [T0] }, { values: [T1] }]]) {
      expect(topicsOf(bad), JSON.stringify(bad)).toBeUndefined();
      expect(
        storedTriggers(live("a", "event", { queries: [{ addresses: [ADDRESS], topics: bad }] })),
        JSON.stringify(bad),
      ).toEqual([]);
    }
  });

  it("gives each firing its reason, its trigger data and its election number", () => {
    const cron = { type: "cron" as const, expression: "* * * * * *" };
    const slot = storedReason(cron, { scheduledAt: 1_767_225_601_000 });
    expect(slot).toEqual({ type: "cron", epoch: 1_767_225_601_000 });
    expect(storedTriggerData(slot, {})).toEqual({
      timestamp: 1_767_225_601_000,
      timestampIso: "2026-01-01T00:00:01.000Z",
    });
    expect(electionNumber(slot)).toBe(1_767_225_601);
    const block = storedReason({ type: "block", everyBlocks: 2, offset: 0 }, { blockNumber: 8 });
    expect(block).toEqual({ type: "block", blockNumber: 8 });
    expect(electionNumber(block)).toBe(8);
    const log = {
      address: ADDRESS,
      topics: [T0],
      data: "0x01",
      blockNumber: "0x9",
      transactionHash: `0x${"c".repeat(64)}`,
      logIndex: "0x2",
    };
    const event = storedReason(
      { type: "event", address: ADDRESS, topics: [], cooldownMs: 0 },
      { log, blockNumber: 9 },
    );
    expect(event).toEqual({ type: "event", blockNumber: 9, txHash: log.transactionHash, logIndex: 2 });
    expect(storedTriggerData(event, { log })).toMatchObject({ address: ADDRESS, topics: [T0], logIndex: 2 });
  });

  it("keys a firing by what the trigger saw, so a repeat is the same firing", () => {
    expect(firingKey({ type: "manual" })).toBeNull();
    expect(firingKey({ type: "block", blockNumber: 8 })).toBe("block:8");
    expect(firingKey({ type: "cron", epoch: 5000 })).toBe("cron:5000");
    expect(firingKey({ type: "event", txHash: T1, logIndex: 3, blockNumber: 1 })).toBe(
      `event:${T1.toLowerCase()}:3`,
    );
    expect(firingKey({ type: "event", blockNumber: 1 })).toBeNull();
  });

  it("keeps the watched set in step with the live tasks", () => {
    const plan = syncPlan(new Set(["gone", "kept"]), [
      live("kept", "block", { interval: 1 }),
      live("new", "cron", { schedules: ["* * * * *"] }),
      live("manual", "manual", {}),
    ]);
    expect(plan.start.map((t) => t.id)).toEqual(["new"]);
    expect(plan.stop).toEqual(["gone"]);
  });
});
