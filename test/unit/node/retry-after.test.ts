/**
 * The wait OVERLOADED asks for (docs/protocol.md#json-rpc-errors): the time to end a tenth of
 * the bound at the recent pace, between 100 ms and 5 s, and 1 s when nothing ended lately; and
 * the bound itself, which follows the pace.
 */
import { describe, expect, it } from "vitest";
import { pendingLimit, retryAfterMs } from "../../../src/node/aggregator/intake.js";

describe("retryAfterMs", () => {
  it("spreads refused clients over the time a tenth of the bound takes to end", () => {
    expect(retryAfterMs(80, 256)).toBe(320); // 25.6 tasks at 80/s
    expect(retryAfterMs(200, 256)).toBe(128);
  });

  it("stays between 100 ms and 5 s, and is 1 s when nothing ended lately", () => {
    expect(retryAfterMs(10_000, 256)).toBe(100);
    expect(retryAfterMs(0.5, 2_000)).toBe(5_000);
    expect(retryAfterMs(0, 256)).toBe(1_000);
    expect(retryAfterMs(Number.NaN, 256)).toBe(1_000);
  });

  it("asks for at least one task's worth with a tiny bound", () => {
    expect(retryAfterMs(5, 2)).toBe(200);
  });
});

describe("pendingLimit", () => {
  it("takes about a second of the recent pace, at least 64, never more than the configured bound", () => {
    expect(pendingLimit(150, 256)).toBe(150);
    expect(pendingLimit(149.2, 256)).toBe(150);
    expect(pendingLimit(10, 256)).toBe(64);
    expect(pendingLimit(1_000, 256)).toBe(256);
    expect(pendingLimit(150, 2)).toBe(2);
  });

  it("is the configured bound while nothing ended lately", () => {
    expect(pendingLimit(0, 256)).toBe(256);
    expect(pendingLimit(Number.NaN, 300)).toBe(300);
  });
});
