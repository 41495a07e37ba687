import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  blsPublicKey,
  blsSecretFromSeed,
  DOMAIN_TASKS,
  hashToPoint,
  initBls,
  isBlsReady,
} from "../../../src/crypto/bls.js";
import { FIELD_MODULUS, fpInv, fpPow } from "../../../src/crypto/bn254-field.js";

// Its own file: vitest isolates files, so mcl is not loaded yet when this runs.
describe("initBls", () => {
  it("point functions fail with INTERNAL before init; pure ones work", async () => {
    expect(isBlsReady()).toBe(false);
    // field arithmetic on bigints before init, through mcl after: the same values
    const xs = [0n, 1n, FIELD_MODULUS - 1n, FIELD_MODULUS, FIELD_MODULUS + 5n, -3n];
    for (let i = 0; i < 20; i++) xs.push(BigInt(`0x${randomBytes(32).toString("hex")}`));
    const e = (FIELD_MODULUS + 1n) / 4n;
    const before = xs.map((x) => [fpInv(x), fpPow(x, e)]);
    const sk = blsSecretFromSeed("0x01");
    expect(hashToPoint(DOMAIN_TASKS, `0x${"00".repeat(32)}`)).toHaveLength(2);
    expect(() => blsPublicKey(sk)).toThrowError(expect.objectContaining({ code: "INTERNAL" }));
    await initBls();
    await initBls();
    expect(isBlsReady()).toBe(true);
    expect(blsPublicKey(sk)).toHaveLength(4);
    expect(xs.map((x) => [fpInv(x), fpPow(x, e)])).toEqual(before);
  });
});
