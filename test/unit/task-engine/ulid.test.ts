import { describe, expect, it } from "vitest";
import { ULID_PATTERN, ulidFactory, ulidTime } from "../../../src/task-engine/ulid.js";

describe("ULIDs", () => {
  it("are 26 Crockford base32 characters carrying their millisecond", () => {
    const id = ulidFactory(() => 1_700_000_000_123)();
    expect(id).toMatch(ULID_PATTERN);
    expect(ulidTime(id)).toBe(1_700_000_000_123);
  });

  it("increase strictly within one millisecond and when the clock steps back", () => {
    let t = 1_700_000_000_000;
    const next = ulidFactory(() => t);
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(next());
    t -= 5_000;
    for (let i = 0; i < 10; i++) ids.push(next());
    t += 60_000;
    ids.push(next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ulidTime(ids.at(-1)!)).toBe(t);
  });

  it("refuses a time a ULID cannot hold", () => {
    expect(() => ulidFactory(() => -1)()).toThrow(RangeError);
    expect(() => ulidFactory(() => 2 ** 48)()).toThrow(RangeError);
  });
});
