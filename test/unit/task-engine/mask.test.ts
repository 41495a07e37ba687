import { describe, expect, it } from "vitest";
import { maskSecrets } from "../../../src/workflow/mask.js";

describe("maskSecrets", () => {
  it("replaces every secret inside every string and key, longest first", () => {
    const record = { out: { "k-abc123": "x abc123 y abc1234", n: 5, list: ["abc123", null, true] } };
    expect(maskSecrets(record, ["abc123", "abc1234"])).toEqual({
      out: { "k-***": "x *** y ***", n: 5, list: ["***", null, true] },
    });
  });

  it("a secret made of JSON syntax cannot break the record", () => {
    const record = { a: 'say "hi"', b: ["\\", ":"] };
    expect(maskSecrets(record, ['"', "\\", ":"])).toEqual({ a: "say ***hi***", b: ["***", "***"] });
    expect(maskSecrets(record, [])).toBe(record);
  });
});
