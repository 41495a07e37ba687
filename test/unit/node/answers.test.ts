import { describe, expect, it } from "vitest";
import { AnswerCache } from "../../../src/node/answers.js";

describe("an attester's votes given", () => {
  it("answers a task pushed again until its deadline, and not after", () => {
    let now = 1_000;
    const cache = new AnswerCache<string>(100, () => now);
    cache.set("a", "vote a", 2_000);
    now = 2_000;
    expect(cache.get("a")).toBe("vote a");
    now = 2_001;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("lets go of the votes whose deadline passed as new ones come, so a steady load holds a steady number", () => {
    let now = 0;
    const cache = new AnswerCache<number>(50_000, () => now);
    // 200 tasks a second for five minutes, each with a 30 s deadline
    for (let i = 0; i < 60_000; i++) {
      now = i * 5;
      cache.set(`t${i}`, i, now + 30_000);
    }
    expect(cache.size).toBe(6_001);
    expect(cache.get("t59999")).toBe(59_999);
    expect(cache.get("t53000")).toBeUndefined();
  });

  it("keeps at most its count, the oldest going first, whatever the deadlines", () => {
    const cache = new AnswerCache<number>(3, () => 0);
    for (let i = 0; i < 5; i++) cache.set(`t${i}`, i, 1_000_000);
    expect(cache.size).toBe(3);
    expect([cache.get("t0"), cache.get("t1"), cache.get("t2"), cache.get("t4")]).toEqual([
      undefined,
      undefined,
      2,
      4,
    ]);
  });

  it("a vote set again moves to the back, with its new deadline", () => {
    let now = 0;
    const cache = new AnswerCache<string>(2, () => now);
    cache.set("a", "first", 100);
    cache.set("b", "b", 100);
    cache.set("a", "again", 500);
    cache.set("c", "c", 500);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual(["again", undefined, "c"]);
    now = 200;
    expect(cache.get("a")).toBe("again");
  });
});
