/**
 * pointFromWitness reads hashToPoint's point from its witness with the checks of
 * BN254.hashToPoint32Witnessed: every honest witness passes and gives hashToPoint's point, and a
 * witness that was tampered with, belongs to another message or has words missing or extra is
 * refused. signVoteWithWitness signs exactly what signVote signs, with or without a good witness.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  blsSecretFromSeed,
  DOMAIN_TASKS,
  hashToPoint,
  hashToPointWitness,
  initBls,
  pointFromWitness,
  signVote,
  signVoteWithWitness,
} from "../../../src/crypto/bls.js";
import { FIELD_MODULUS as P } from "../../../src/crypto/bn254-field.js";

const MASK = (1n << 254n) - 1n;
const messageOf = (i: number) => `0x${Buffer.from(keccak_256(Buffer.from(`vote ${i}`))).toString("hex")}`;

describe("pointFromWitness", () => {
  it("gives hashToPoint's point for every number of rejected candidates", () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 64; i++) {
      const message = messageOf(i);
      const w = hashToPointWitness(DOMAIN_TASKS, message)!;
      seen.add(w[1]! >> 254n);
      expect(pointFromWitness(DOMAIN_TASKS, message, w)).toEqual(hashToPoint(DOMAIN_TASKS, message));
    }
    expect([...seen].sort()).toEqual([0n, 1n, 2n]);
  });

  it("refuses a witness tampered with, of another message, or with words missing or extra", () => {
    const message = messageOf(1000);
    const w = hashToPointWitness(DOMAIN_TASKS, message)!;
    const y = w[1]! & MASK;
    const tampered: bigint[][] = [
      [w[0]! + 1n, ...w.slice(1)],
      [w[0]!, (P - y) | (w[1]! & ~MASK), ...w.slice(2)],
      [w[0]!, w[1]! ^ (1n << 254n), ...w.slice(2)],
      [w[0]!, w[1]!, w[2]! + 1n, ...w.slice(3)],
      w.slice(0, -1),
      [...w, 0n],
      [w[0]! + P, ...w.slice(1)].map((v, i) => (i === 0 ? v + (1n << 256n) : v)),
      [-w[0]!, ...w.slice(1)],
      hashToPointWitness(DOMAIN_TASKS, messageOf(1001))!,
      [],
    ];
    for (const bad of tampered) expect(pointFromWitness(DOMAIN_TASKS, message, bad)).toBeNull();
    expect(pointFromWitness(DOMAIN_TASKS, messageOf(1001), w)).toBeNull();
  });
});

describe("signVoteWithWitness", () => {
  beforeAll(() => initBls());

  it("signs what signVote signs, and hashes itself when the witness does not pass", () => {
    const sk = blsSecretFromSeed("0x01");
    const vh = messageOf(7);
    const w = hashToPointWitness(DOMAIN_TASKS, vh)!;
    const expected = signVote(sk, vh);
    expect(signVoteWithWitness(sk, vh, w)).toEqual(expected);
    expect(signVoteWithWitness(sk, vh, hashToPointWitness(DOMAIN_TASKS, messageOf(8))!)).toEqual(expected);
    expect(signVoteWithWitness(sk, vh, [])).toEqual(expected);
  });
});
