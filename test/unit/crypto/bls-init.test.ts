import { describe, expect, it } from "vitest";
import {
  blsPublicKey,
  blsSecretFromSeed,
  DOMAIN_TASKS,
  hashToPoint,
  initBls,
  isBlsReady,
} from "../../../src/crypto/bls.js";

// Its own file: vitest isolates files, so mcl is not loaded yet when this runs.
describe("initBls", () => {
  it("point functions fail with INTERNAL before init; pure ones work", async () => {
    expect(isBlsReady()).toBe(false);
    const sk = blsSecretFromSeed("0x01");
    expect(hashToPoint(DOMAIN_TASKS, `0x${"00".repeat(32)}`)).toHaveLength(2);
    expect(() => blsPublicKey(sk)).toThrowError(expect.objectContaining({ code: "INTERNAL" }));
    await initBls();
    await initBls();
    expect(isBlsReady()).toBe(true);
    expect(blsPublicKey(sk)).toHaveLength(4);
  });
});
