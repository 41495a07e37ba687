import { describe, expect, it } from "vitest";
import { validateConfig } from "../../../src/config/schema.js";
import { electPerformer, leaderIndex } from "../../../src/triggers/leader.js";

const operators = ["0xaaa", "0xbbb", "0xccc"].map((operator, i) => ({ operator, operatorId: i + 1 }));

describe("round-robin leader election (docs/protocol.md#leader-election)", () => {
  it("is floor(blockNumber / epochBlocks) % numberOfActiveOperators", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((b) => leaderIndex(b, 3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((b) => leaderIndex(b, 3, 2))).toEqual([0, 0, 1, 1, 2, 2, 0, 0]);
    expect(leaderIndex(1_000_003, 4, 10)).toBe(100_000 % 4);
    expect(leaderIndex(12, 0)).toBe(-1);
  });

  it("keeps the contract's order", () => {
    expect(electPerformer(operators, 4)?.operator).toBe("0xbbb");
    expect(electPerformer([...operators].reverse(), 4)?.operator).toBe("0xbbb");
    expect(electPerformer([...operators].reverse(), 5)?.operator).toBe("0xaaa");
    expect(electPerformer([], 5)).toBeUndefined();
  });

  it("elects exactly one operator per block, each in turn", () => {
    const counts = new Map<string, number>();
    for (let block = 100; block < 160; block++) {
      // Every operator asks "am I the performer?" on its own; exactly one says yes.
      const yes = operators.filter((me) => electPerformer(operators, block, 2)?.operator === me.operator);
      expect(yes).toHaveLength(1);
      counts.set(yes[0]!.operator, (counts.get(yes[0]!.operator) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([20, 20, 20]);
  });

  it("refuses a bad block or epoch", () => {
    expect(() => leaderIndex(-1, 3)).toThrow(/blockNumber/);
    expect(() => leaderIndex(1, 3, 0)).toThrow(/epochBlocks/);
  });
});

describe("triggers in avsctl.config.json", () => {
  it("are validated by dotted path, one example per type accepted", () => {
    const { config, errors, warnings } = validateConfig({
      taskDefinitions: [
        {
          name: "price",
          triggers: [
            { type: "interval", every: "30s", data: { n: "{{n}}" } },
            { type: "cron", expression: "*/5 * * * *", timezone: "UTC" },
            { type: "fixedTime", at: ["2030-01-01T12:00:00Z"] },
            { type: "block", everyBlocks: 10, flavour: "x" },
            {
              type: "event",
              address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
              topics: ["Transfer(address,address,uint256)"],
              cooldown: "1m",
            },
          ],
        },
      ],
    });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      { path: "taskDefinitions[0].triggers[3].flavour", message: expect.any(String) },
    ]);
    expect(config.taskDefinitions[0]!.triggers!.map((t) => t.type)).toEqual([
      "interval",
      "cron",
      "fixedTime",
      "block",
      "event",
    ]);
    expect(config.taskDefinitions[0]!.triggers![3]).toEqual({ type: "block", everyBlocks: 10 });
  });

  it("reports each bad trigger key", () => {
    const { errors } = validateConfig({
      taskDefinitions: [
        { name: "a", triggers: [{ type: "interval" }, { type: "block", everyBlocks: -1 }, "x"] },
        {
          name: "b",
          triggers: [
            { type: "event", address: "nope" },
            { type: "cron", expression: "x" },
          ],
        },
      ],
    });
    expect(errors.map((e) => e.path)).toEqual([
      "taskDefinitions[0].triggers[0].every",
      "taskDefinitions[0].triggers[1].everyBlocks",
      "taskDefinitions[0].triggers[2]",
      "taskDefinitions[1].triggers[0].address",
      "taskDefinitions[1].triggers[1].expression",
    ]);
  });
});
