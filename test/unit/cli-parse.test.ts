/** The flag parsers of src/cli/parse.ts: typed values, and INVALID_ARGUMENT naming the flag. */
import { describe, expect, it } from "vitest";
import {
  amount,
  blockExpiry,
  httpUrl,
  intRange,
  json,
  oneOf,
  operatorIds,
  seconds,
  taskDefinitionId,
  typedOption,
  uint,
  uintNumber,
} from "../../src/cli/parse.js";
import { isAvsctlError } from "../../src/errors.js";

function failure(fn: () => unknown): { code: string; argument: unknown } {
  try {
    fn();
  } catch (error) {
    if (!isAvsctlError(error)) throw error;
    return { code: error.code, argument: error.details?.argument };
  }
  throw new Error("expected a failure");
}

describe("flag parsers", () => {
  it("give typed values", () => {
    expect(uint("--n")("0x10")).toBe(16n);
    expect(uintNumber("--port", 16)("8545")).toBe(8545);
    expect(intRange("--count", 1, 10)("10")).toBe(10);
    expect(seconds("--timeout", 60)("2")).toBe(2000);
    expect(amount("--reward")("0.1eth")).toBe(10n ** 17n);
    expect(blockExpiry("--block-expiry")("never")).toBe((1n << 256n) - 1n);
    expect(taskDefinitionId("--task-def")("7")).toBe(7);
    expect(operatorIds("--ids")("3,1")).toEqual({ ids: [1n, 3n], sorted: true });
    expect(oneOf("--via", ["rpc", "execution"])("rpc")).toBe("rpc");
    expect(json("--data")('{"a":1}')).toEqual({ a: 1 });
    expect(httpUrl("--aggregator")("http://127.0.0.1:1")).toBe("http://127.0.0.1:1");
  });

  it.each([
    ["uint", () => uint("--n")("-1"), "--n"],
    ["uint bits", () => uintNumber("--port", 16)("65536"), "--port"],
    ["range low", () => intRange("--count", 1, 10)("0"), "--count"],
    ["range high", () => intRange("--count", 1, 10)("11"), "--count"],
    ["seconds", () => seconds("--timeout", 60)("soon"), "--timeout"],
    ["amount unit", () => amount("--reward")("1btc"), "--reward"],
    ["amount fraction", () => amount("--reward")("0.5wei"), "--reward"],
    ["internal id", () => taskDefinitionId("--task-def")("10001"), "--task-def"],
    ["duplicate ids", () => operatorIds("--ids")("1,1"), "--ids"],
    ["choice", () => oneOf("--via", ["rpc", "execution"])("mail"), "--via"],
    ["json", () => json("--data")("{"), "--data"],
    ["url", () => httpUrl("--aggregator")("ftp://x"), "--aggregator"],
  ])("%s: INVALID_ARGUMENT naming the flag", (_name, fn, flag) => {
    expect(failure(fn)).toEqual({ code: "INVALID_ARGUMENT", argument: flag });
  });

  it("an option's default is typed, and --help shows it as the user would type it", () => {
    const option = typedOption("--reward <amount>", "reward", amount("--reward"), { value: 0n, shown: "0" });
    expect(option.defaultValue).toBe(0n);
    expect(option.defaultValueDescription).toBe("0");
    expect(option.parseArg?.("1gwei", undefined)).toBe(10n ** 9n);
  });
});
