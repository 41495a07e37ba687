/**
 * The witness avsctl's OBLS takes to hash to the curve without modexp calls
 * (BN254.hashToPoint32Witnessed, docs/protocol.md "Contracts"), checked here the way the contract
 * checks it: every witness must pass and give hashToPoint's point, for each number of rejected
 * candidates; the other root of y must not pass.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import {
  DOMAIN_TASKS,
  hashToField,
  hashToPoint,
  hashToPointWitness,
  hashToPointWitnessed,
} from "../../../src/crypto/bls.js";
import { g1AddAffine, FIELD_MODULUS as P } from "../../../src/crypto/bn254-field.js";

const Z0 = 0x0000000000000000b3c4d79d41a91759a9e4c7e359b6b89eaec68e62effffffdn;
const Z1 = 0x000000000000000059e26bcea0d48bacd4f263f1acdb5c4f5763473177fffffen;
const MASK = (1n << 254n) - 1n;
const rhs = (x: bigint) => (((x * x) % P) * x + 3n) % P;

/** One map of a full witness checked word by word (as pointFromWitness does): the point, and the words it used, or null. */
function mapChecked(
  t: bigint,
  a0: bigint,
  a1: bigint,
  a2: bigint,
  w: bigint[],
): [bigint, bigint, number] | null {
  const head = w[0]!;
  const k = Number(head >> 254n);
  const y = head & MASK;
  if (k > 2 || y >= P || w.length < 2 + k) return null;
  let x = (Z1 + P - ((t * ((((a1 * a1) % P) * a2) % P)) % P)) % P;
  for (let i = 0; i < k; i++) {
    const g = rhs(x);
    const r = w[2 + i]!;
    if (g === 0n || (r * r) % P !== P - g) return null;
    if (i === 0) x = P - ((x + 1n) % P);
    else {
      const a0sq = (a0 * a0) % P;
      x = (((((((a0sq * a0sq) % P) * a2) % P) * a2) % P) + 1n) % P;
    }
  }
  const root = w[1]!;
  if ((y * y) % P !== rhs(x) || (root * root) % P !== (y * t) % P) return null;
  return [x, y, 2 + k];
}

function pointChecked(message: string, w: bigint[]): readonly [bigint, bigint][] | null {
  const [u0, u1] = hashToField(DOMAIN_TASKS, message);
  const a00 = (((u0 * u0) % P) + 4n) % P;
  const a01 = (u0 * Z0) % P;
  const a10 = (((u1 * u1) % P) + 4n) % P;
  const a11 = (u1 * Z0) % P;
  const d0 = (a01 * a00) % P;
  const d1 = (a11 * a10) % P;
  const inv = w[0]!;
  if ((((inv * d0) % P) * d1) % P !== 1n) return null;
  const m0 = mapChecked(u0, a00, a01, (d1 * inv) % P, w.slice(1));
  if (!m0) return null;
  const m1 = mapChecked(u1, a10, a11, (d0 * inv) % P, w.slice(1 + m0[2]));
  if (!m1) return null;
  return [
    [m0[0], m0[1]],
    [m1[0], m1[1]],
  ];
}

const messageOf = (i: number) => `0x${Buffer.from(keccak_256(Buffer.from(`message ${i}`))).toString("hex")}`;

describe("hashToPointWitness", () => {
  it("passes the contract's checks and gives hashToPoint's point, for every number of rejected candidates", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 64; i++) {
      const message = messageOf(i);
      const w = hashToPointWitness(DOMAIN_TASKS, message)!;
      const maps = pointChecked(message, w);
      expect(maps).not.toBeNull();
      expect(g1AddAffine(maps![0]!, maps![1]!)).toEqual(hashToPoint(DOMAIN_TASKS, message));
      // the point that comes with the witness is hashToPoint's too
      expect(hashToPointWitnessed(DOMAIN_TASKS, message)).toEqual({
        witness: w,
        point: hashToPoint(DOMAIN_TASKS, message),
      });
      const k0 = Number(w[1]! >> 254n);
      seen.add(k0);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it("refuses the other root of y, another message's witness and a wrong candidate count", () => {
    const message = messageOf(1000);
    const w = hashToPointWitness(DOMAIN_TASKS, message)!;
    const y = w[1]! & MASK;
    expect(pointChecked(message, [w[0]!, (P - y) | (w[1]! & ~MASK), ...w.slice(2)])).toBeNull();
    expect(pointChecked(message, hashToPointWitness(DOMAIN_TASKS, messageOf(1001))!)).toBeNull();
    expect(pointChecked(message, [w[0]!, w[1]! ^ (1n << 254n), ...w.slice(2)])).toBeNull();
  });
});
