import { describe, expect, it } from "vitest";
import {
  applyCooldown,
  blockFirings,
  cooldownAllows,
  describeTrigger,
  eventTopic,
  formatDuration,
  nextCronTime,
  nextFiring,
  nextFiringBlock,
  nextFixedTime,
  nextIntervalTime,
  parseDuration,
  parseTrigger,
  renderTemplate,
  type Trigger,
} from "../../../src/triggers/schedule.js";

const P = "taskDefinitions[0].triggers[0]";
const ok = (raw: unknown): Trigger => {
  const parsed = parseTrigger(raw, P);
  expect(parsed.errors).toEqual([]);
  return parsed.trigger!;
};
const errorPaths = (raw: unknown) => parseTrigger(raw, P).errors.map((e) => e.path);

describe("durations", () => {
  it("parses units and combinations", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("2d")).toBe(172_800_000);
  });
  it("refuses what is not a duration", () => {
    for (const bad of ["", "5", "5 minutes", "s", "-5s", "5x", "1h 30m"])
      expect(parseDuration(bad)).toBeUndefined();
  });
  it("formats back", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(30_000)).toBe("30s");
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(1_500)).toBe("1500ms");
  });
});

describe("interval triggers", () => {
  it("accepts every or everyMs, not both, not neither, not too fast", () => {
    expect(ok({ type: "interval", every: "30s" })).toEqual({ type: "interval", everyMs: 30_000 });
    expect(ok({ type: "interval", everyMs: 500, maxFirings: 3, data: "n={{n}}" })).toEqual({
      type: "interval",
      everyMs: 500,
      maxFirings: 3,
      data: "n={{n}}",
    });
    expect(errorPaths({ type: "interval", every: "30s", everyMs: 100 })).toEqual([`${P}.every`]);
    expect(errorPaths({ type: "interval" })).toEqual([`${P}.every`]);
    expect(errorPaths({ type: "interval", everyMs: 10 })).toEqual([`${P}.everyMs`]);
    expect(errorPaths({ type: "interval", every: "soon" })).toEqual([`${P}.every`]);
    expect(errorPaths({ type: "interval", every: "1s", maxFirings: 0 })).toEqual([`${P}.maxFirings`]);
  });

  it("fires on multiples of the interval since the epoch, strictly after now", () => {
    expect(nextIntervalTime(1000, 0)).toBe(1000);
    expect(nextIntervalTime(1000, 999)).toBe(1000);
    expect(nextIntervalTime(1000, 1000)).toBe(2000);
    expect(nextIntervalTime(300_000, 1_700_000_123_456)).toBe(1_700_000_400_000);
    // A sequence of firings is evenly paced whatever the starting point.
    let t = 12_345;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push((t = nextIntervalTime(250, t)));
    expect(seen).toEqual([12_500, 12_750, 13_000, 13_250, 13_500]);
  });

  it("warns about keys of other trigger types", () => {
    const parsed = parseTrigger({ type: "interval", every: "1s", everyBlocks: 3 }, P);
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings.map((w) => w.path)).toEqual([`${P}.everyBlocks`]);
    expect(parsed.config).toEqual({ type: "interval", every: "1s" });
  });
});

describe("cron triggers (croner)", () => {
  const start = Date.parse("2025-01-01T00:00:07.500Z");

  it("computes the next runs", () => {
    const t = ok({ type: "cron", expression: "*/5 * * * * *", timezone: "UTC" });
    expect(new Date(nextFiring(t, start).at!).toISOString()).toBe("2025-01-01T00:00:10.000Z");
    // Strictly after: a firing exactly at a slot moves on to the next one.
    expect(nextCronTime("*/5 * * * * *", "UTC", Date.parse("2025-01-01T00:00:10.000Z"))).toBe(
      Date.parse("2025-01-01T00:00:15.000Z"),
    );
    expect(nextCronTime("0 12 * * *", "UTC", start)).toBe(Date.parse("2025-01-01T12:00:00.000Z"));
  });

  it("honours the time zone", () => {
    // 09:00 in Paris on Monday 6 January 2025 is 08:00 UTC (winter time).
    expect(nextCronTime("0 9 * * 1", "Europe/Paris", start)).toBe(Date.parse("2025-01-06T08:00:00.000Z"));
    expect(nextCronTime("0 9 * * 1", "America/New_York", start)).toBe(Date.parse("2025-01-06T14:00:00.000Z"));
  });

  it("refuses bad expressions, ISO dates, zones and expressions that never fire", () => {
    expect(errorPaths({ type: "cron", expression: "every minute" })).toEqual([`${P}.expression`]);
    expect(errorPaths({ type: "cron", expression: "2030-01-01T00:00:00Z" })).toEqual([`${P}.expression`]);
    expect(errorPaths({ type: "cron", expression: "61 * * * *" })).toEqual([`${P}.expression`]);
    expect(errorPaths({ type: "cron", expression: "0 0 30 2 *" })).toEqual([`${P}.expression`]);
    expect(errorPaths({ type: "cron", expression: "* * * * *", timezone: "Mars/Olympus" })).toEqual([
      `${P}.timezone`,
    ]);
    expect(errorPaths({ type: "cron" })).toEqual([`${P}.expression`]);
  });
});

describe("fixed-time triggers", () => {
  it("takes ISO times and epoch ms, sorted and deduplicated", () => {
    const t = ok({
      type: "fixedTime",
      at: ["2030-01-01T12:00:00Z", 1_893_456_000_000, "2030-01-01T12:00:00.000Z"],
    });
    expect(t).toEqual({ type: "fixedTime", at: [1_893_456_000_000, Date.parse("2030-01-01T12:00:00Z")] });
  });

  it("gives the first time strictly after now, then null", () => {
    const times = [1_000, 2_000, 3_000];
    expect(nextFixedTime(times, 0)).toBe(1_000);
    expect(nextFixedTime(times, 1_000)).toBe(2_000);
    expect(nextFixedTime(times, 2_500)).toBe(3_000);
    expect(nextFixedTime(times, 3_000)).toBeNull();
    expect(nextFiring({ type: "fixedTime", at: times }, 5_000)).toEqual({ at: null, block: null });
  });

  it("points at the bad entry", () => {
    expect(errorPaths({ type: "fixedTime", at: ["2030-01-01T00:00:00Z", "tomorrow", -5] })).toEqual([
      `${P}.at[1]`,
      `${P}.at[2]`,
    ]);
    expect(errorPaths({ type: "fixedTime", at: [] })).toEqual([`${P}.at`]);
  });
});

describe("block triggers", () => {
  it("fires on every N-th block number (with an offset)", () => {
    expect(blockFirings(3, 0, 0, 10)).toEqual([3, 6, 9]);
    expect(blockFirings(3, 0, 3, 9)).toEqual([6, 9]);
    expect(blockFirings(3, 1, 0, 10)).toEqual([1, 4, 7, 10]);
    expect(blockFirings(1, 0, 41, 44)).toEqual([42, 43, 44]);
    expect(blockFirings(5, 0, 10, 10)).toEqual([]);
    expect(blockFirings(5, 0, 11, 14)).toEqual([]);
    // Far behind: only the newest firings are kept, still on the grid.
    expect(blockFirings(2, 0, 0, 1_000_000, 3)).toEqual([999_996, 999_998, 1_000_000]);
  });

  it("gives the next block", () => {
    expect(nextFiringBlock(4, 0, 0)).toBe(4);
    expect(nextFiringBlock(4, 0, 4)).toBe(8);
    expect(nextFiringBlock(4, 0, 7)).toBe(8);
    expect(nextFiringBlock(4, 3, 3)).toBe(7);
    expect(nextFiringBlock(4, 3, 0)).toBe(3);
    const t = ok({ type: "block", everyBlocks: 10 });
    expect(nextFiring(t, 0, 25)).toEqual({ at: null, block: 30 });
    expect(nextFiring(t, 0)).toEqual({ at: null, block: null });
  });

  it("validates everyBlocks and offset", () => {
    expect(ok({ type: "block", everyBlocks: 5, offset: 4 })).toEqual({
      type: "block",
      everyBlocks: 5,
      offset: 4,
    });
    expect(errorPaths({ type: "block" })).toEqual([`${P}.everyBlocks`]);
    expect(errorPaths({ type: "block", everyBlocks: 0 })).toEqual([`${P}.everyBlocks`]);
    expect(errorPaths({ type: "block", everyBlocks: 5, offset: 5 })).toEqual([`${P}.offset`]);
  });
});

describe("event triggers", () => {
  const address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const topic = `0x${"ab".repeat(32)}`;

  it("normalises address, topics, event signatures and the cooldown", () => {
    expect(
      ok({
        type: "event",
        address,
        topics: [topic.toUpperCase().replace("0X", "0x"), null],
        cooldown: "30s",
      }),
    ).toEqual({
      type: "event",
      address: address.toLowerCase(),
      topics: [topic],
      cooldownMs: 30_000,
    });
    const transfer = ok({
      type: "event",
      address,
      topics: ["Transfer(address, address, uint256)", null, [topic, topic]],
    });
    expect(transfer).toMatchObject({
      topics: [eventTopic("Transfer(address,address,uint256)"), null, [topic, topic]],
      cooldownMs: 0,
    });
    expect(eventTopic("Transfer(address,address,uint256)")).toBe(
      "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    );
  });

  it("refuses bad addresses and topics by path", () => {
    expect(errorPaths({ type: "event", address: "0x1234", topics: [] })).toEqual([`${P}.address`]);
    expect(errorPaths({ type: "event", address, topics: [topic, "Transfer(address)"] })).toEqual([
      `${P}.topics[1]`,
    ]);
    expect(errorPaths({ type: "event", address, topics: [topic, [topic, "0x12"]] })).toEqual([
      `${P}.topics[1][1]`,
    ]);
    expect(errorPaths({ type: "event", address, topics: [null, null, null, null, null] })).toEqual([
      `${P}.topics`,
    ]);
    expect(errorPaths({ type: "event", address, cooldownMs: -1 })).toEqual([`${P}.cooldownMs`]);
  });

  it("applies the cooldown by block time", () => {
    expect(cooldownAllows(undefined, 0, 60_000)).toBe(true);
    expect(cooldownAllows(1_000, 60_999, 60_000)).toBe(false);
    expect(cooldownAllows(1_000, 61_000, 60_000)).toBe(true);
    expect(cooldownAllows(1_000, 1_000, 0)).toBe(true);

    const logs = [0, 10_000, 70_000, 70_000, 200_000, 259_999, 260_000].map((atMs, i) => ({ atMs, i }));
    const split = applyCooldown(logs, undefined, 60_000);
    expect(split.fire.map((l) => l.i)).toEqual([0, 2, 4, 6]);
    expect(split.suppressed.map((l) => l.i)).toEqual([1, 3, 5]);
    expect(split.lastFiredMs).toBe(260_000);
    // The cooldown carries over from an earlier batch.
    expect(applyCooldown([{ atMs: 300_000 }], 260_000, 60_000).fire).toEqual([]);
    // No cooldown: every log fires, even several in one block.
    expect(applyCooldown(logs, 0, 0).fire).toHaveLength(logs.length);
  });

  it("never has a next time or block", () => {
    expect(nextFiring(ok({ type: "event", address }), 0, 100)).toEqual({ at: null, block: null });
  });
});

describe("templates and descriptions", () => {
  it("fills known placeholders and keeps unknown ones", () => {
    expect(
      renderTemplate('{"n":{{n}},"at":"{{ firedAt }}","b":{{blockNumber}},"x":"{{nope}}"}', {
        n: 3,
        firedAt: "2030-01-01T00:00:00.000Z",
        blockNumber: 42,
      }),
    ).toBe('{"n":3,"at":"2030-01-01T00:00:00.000Z","b":42,"x":"{{nope}}"}');
  });

  it("stores an object data template as JSON", () => {
    expect(ok({ type: "block", everyBlocks: 2, data: { n: "{{n}}" } }).data).toBe('{"n":"{{n}}"}');
    expect(errorPaths({ type: "block", everyBlocks: 2, data: 5 })).toEqual([`${P}.data`]);
  });

  it("describes each type in one line", () => {
    expect(describeTrigger(ok({ type: "interval", every: "30s" }))).toBe("every 30s");
    expect(describeTrigger(ok({ type: "cron", expression: "0 * * * *", timezone: "UTC" }))).toBe(
      "cron 0 * * * * (UTC)",
    );
    expect(describeTrigger(ok({ type: "block", everyBlocks: 1, maxFirings: 2 }))).toBe(
      "every block, at most 2 firings",
    );
    expect(describeTrigger(ok({ type: "fixedTime", at: [0] }))).toBe("at 1970-01-01T00:00:00.000Z");
    expect(
      describeTrigger(
        ok({
          type: "event",
          address: `0x${"12".repeat(20)}`,
          topics: [`0x${"ab".repeat(32)}`],
          cooldownMs: 5000,
        }),
      ),
    ).toBe("each log of 0x12121212…1212 with topic0 0xabababab…abab, cooldown 5s");
  });

  it("refuses unknown types and non-objects", () => {
    expect(errorPaths({ type: "queue" })).toEqual([`${P}.type`]);
    expect(errorPaths({})).toEqual([`${P}.type`]);
    expect(errorPaths("every 5s")).toEqual([P]);
  });
});
