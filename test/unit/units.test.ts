import { getAddress, hexlify, randomBytes } from "ethers";
import { describe, expect, it } from "vitest";
import {
  checksumAddress,
  parseAddress,
  parseAmount,
  parseBlockExpiry,
  parseOperatorIds,
  parseTaskDefinitionId,
  UINT256_MAX,
} from "../../src/chain/units.js";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe("flag parsing shared by task-def, task and devnet", () => {
  it("amounts: wei, gwei and eth, never finer than a wei", () => {
    expect(parseAmount("1000", "--x")).toBe(1000n);
    expect(parseAmount("0.1eth", "--x")).toBe(10n ** 17n);
    expect(parseAmount("5 gwei", "--x")).toBe(5n * 10n ** 9n);
    expect(codeOf(() => parseAmount("0.5wei", "--x"))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => parseAmount("1btc", "--x"))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => parseAmount("-1", "--x"))).toBe("INVALID_ARGUMENT");
    expect(() => parseAmount("-1eth", "<amount>")).toThrow(/<amount>: "-1eth" is negative/);
  });

  it("operator ids: unique, positive, sorted ascending (and says when it sorted)", () => {
    expect(parseOperatorIds("3,1,2", "--r")).toEqual({ ids: [1n, 2n, 3n], sorted: true });
    expect(parseOperatorIds(["1", "2"], "--r")).toEqual({ ids: [1n, 2n], sorted: false });
    expect(codeOf(() => parseOperatorIds("1,1", "--r"))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => parseOperatorIds("0", "--r"))).toBe("INVALID_ARGUMENT");
  });

  it("task definition ids: uint16, from 1, not the internal ones", () => {
    expect(parseTaskDefinitionId("7")).toBe(7);
    for (const bad of ["0", "10001", "65536", "x"])
      expect(codeOf(() => parseTaskDefinitionId(bad))).toBe("INVALID_ARGUMENT");
    expect(parseBlockExpiry(undefined)).toBe(UINT256_MAX);
    expect(parseBlockExpiry("never")).toBe(UINT256_MAX);
  });

  it("addresses: EIP-55 checked without ethers, and checksummed like ethers does", () => {
    for (let i = 0; i < 50; i++) {
      const lower = hexlify(randomBytes(20));
      expect(checksumAddress(lower, "--a")).toBe(getAddress(lower));
      expect(parseAddress(getAddress(lower), "--a")).toBe(getAddress(lower));
    }
    // Flipping one letter's case leaves an address mixed-case (so checked) only when it has two
    // letters of each case: draw until one does, which nearly every checksummed address does.
    const count = (text: string, letters: RegExp) => (text.slice(2).match(letters) ?? []).length;
    const good = Array.from({ length: 100 }, () => getAddress(hexlify(randomBytes(20)))).find(
      (a) => count(a, /[A-F]/g) >= 2 && count(a, /[a-f]/g) >= 2,
    );
    expect(good).toBeDefined();
    for (const letter of [/[A-F]/, /[a-f]/]) {
      const at = 2 + good!.slice(2).search(letter);
      const c = good![at]!;
      const flipped = `${good!.slice(0, at)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${good!.slice(at + 1)}`;
      expect(flipped).not.toBe(good);
      expect(
        codeOf(() => parseAddress(flipped, "--a")),
        flipped,
      ).toBe("INVALID_ADDRESS");
    }
    expect(codeOf(() => parseAddress("0x1234", "--a"))).toBe("INVALID_ADDRESS");
  });
});
