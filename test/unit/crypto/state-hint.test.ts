/**
 * stateHint: the state section of submitTask's hints (docs/protocol.md, "Contracts"). The
 * contract tests check OBLS takes it; these check its layout and arithmetic on their own.
 */

import { beforeAll, describe, expect, it } from "vitest";
import {
  aggregatePublicKeys,
  blsPublicKey,
  g2Neg,
  HINTS_TAG,
  initBls,
  FIELD_MODULUS as P,
  randomBlsSecret,
  stateHint,
  stateHintCheaper,
  type Voter,
  withSubmitHints,
} from "../../../src/crypto/bls.js";

const f2mul = (a: bigint[], b: bigint[]) => [
  (((a[0]! * b[0]! - a[1]! * b[1]!) % P) + P) % P,
  (a[0]! * b[1]! + a[1]! * b[0]!) % P,
];
const f2sub = (a: bigint[], b: bigint[]) => [(a[0]! - b[0]! + P) % P, (a[1]! - b[1]! + P) % P];

describe("stateHint", () => {
  let voters: Voter[];
  beforeAll(async () => {
    await initBls();
    voters = [3n, 4n, 5n, 6n].map((id) => ({
      id,
      votingPower: id * 10n,
      key: blsPublicKey(randomBlsSecret()),
    }));
  });

  it("lays out the count, the voters' sum, total and bitmap, then one entry per non-signer", () => {
    const words = stateHint(voters, [3n, 5n])!;
    expect(words[0]).toBe(2n);
    expect(words.slice(1, 5)).toEqual([...aggregatePublicKeys(voters.map((v) => v.key))]);
    expect(words[5]).toBe(180n);
    expect(words[6]).toBe((1n << 3n) | (1n << 4n) | (1n << 5n) | (1n << 6n));
    expect(words.length).toBe(7 + 2 * 7);
    // entries in ascending id: 4, then 6
    expect(words.slice(7, 11)).toEqual([...voters[1]!.key]);
    expect(words[11]).toBe(40n);
    expect(words.slice(14, 18)).toEqual([...voters[3]!.key]);
    expect(
      stateHint(
        voters,
        voters.map((v) => v.id),
      )!.length,
    ).toBe(7);
  });

  it("puts a BLS performer's key and power after the bitmap, flagged in the header", () => {
    const performer: Voter = { id: 2n, votingPower: 0n, key: blsPublicKey(randomBlsSecret()) };
    const words = stateHint(voters, [3n, 4n, 5n], performer)!;
    expect(words[0]).toBe(1n | (1n << 32n));
    expect(words.slice(7, 12)).toEqual([...performer.key, 0n]);
    expect(words.slice(12, 16)).toEqual([...voters[3]!.key]);
    expect(words.length).toBe(7 + 5 + 7);
  });

  it("gives each subtraction the slope OBLS checks, ending at the signers' sum", () => {
    const words = stateHint(voters, [3n, 5n])!;
    let acc = words.slice(1, 5);
    for (const at of [7, 14]) {
      const key = words.slice(at, at + 4);
      const slope = words.slice(at + 5, at + 7);
      const negated = g2Neg(key as [bigint, bigint, bigint, bigint]);
      // slope * (x - a.x) == -y - a.y
      expect(f2mul(slope, f2sub(key.slice(0, 2), acc.slice(0, 2)))).toEqual(
        f2sub(negated.slice(2, 4), acc.slice(2, 4)),
      );
      acc = [...aggregatePublicKeys([acc as [bigint, bigint, bigint, bigint], negated])];
    }
    expect(acc).toEqual([...aggregatePublicKeys([voters[0]!.key, voters[2]!.key])]);
  });

  it("is null where OBLS could not take it: an id from 256 on, or nothing left of the sum", () => {
    expect(stateHint([...voters, { id: 256n, votingPower: 1n, key: voters[0]!.key }], [3n])).toBeNull();
    expect(stateHint(voters, [])).toBeNull();
  });

  it("goes between any apkG2 and the witnesses, flagged 8", () => {
    const words = stateHint(voters, [3n, 4n, 5n])!;
    const data = withSubmitHints("0x1234", { state: words, votePoint: [7n] });
    const hex = (v: bigint) => v.toString(16).padStart(64, "0");
    expect(data).toBe(`0x1234${words.map(hex).join("")}${hex(7n)}0a${HINTS_TAG.slice(2)}`);
  });

  it("is the cheaper way with most voters signing, not for a rejection by a third", () => {
    expect(stateHintCheaper(2, 1)).toBe(true);
    expect(stateHintCheaper(20, 10)).toBe(true);
    expect(stateHintCheaper(1, 2)).toBe(false);
    expect(stateHintCheaper(10, 20)).toBe(false);
  });
});
