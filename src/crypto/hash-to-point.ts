/**
 * Hash-to-G1 of the Hubble BLS scheme used by Othentic's BLS.sol, bit for bit:
 * RFC 9380 expand_message_xmd (SHA-256, 96 bytes, the 32-byte domain as DST), two field
 * elements from 48-byte halves, Fouque-Tibouchi mapToPoint on each, and their sum.
 * Pure bigint code: no async init needed.
 */

import { AvsctlError } from "../errors.js";
import { FIELD_MODULUS, fpInv, fpMod, fpSqrt, g1AddAffine } from "./bn254-field.js";
import { type BytesLike, bytesToBigInt, concatBytes, toBytes } from "./bytes.js";
import { sha256 } from "./digest.js";
import type { G1 } from "./mcl.js";

export type { G1 };

const P = FIELD_MODULUS;
// sqrt(-3) mod p and (sqrt(-3) - 1) / 2 mod p: the Fouque-Tibouchi constants for b = 3.
const Z0 = 0x0000000000000000b3c4d79d41a91759a9e4c7e359b6b89eaec68e62effffffdn;
const Z1 = 0x000000000000000059e26bcea0d48bacd4f263f1acdb5c4f5763473177fffffen;

function domainBytes(domain: BytesLike): Uint8Array {
  const bytes = toBytes(domain, "domain");
  if (bytes.length !== 32) {
    throw new AvsctlError("INVALID_ARGUMENT", "domain: expected 32 bytes", {
      details: { argument: "domain", length: bytes.length },
    });
  }
  return bytes;
}

/**
 * RFC 9380 `expand_message_xmd` with SHA-256 to 96 bytes, the 32-byte `domain` as DST, exactly as
 * `BLS.expandMsgTo96` in Solidity.
 */
export function expandMsgTo96(domain: BytesLike, message: BytesLike): Uint8Array {
  const dst = domainBytes(domain);
  const msg = toBytes(message, "message");
  const dstPrime = concatBytes(dst, Uint8Array.of(32));
  const b0 = sha256(concatBytes(new Uint8Array(64), msg, Uint8Array.of(0, 96, 0), dstPrime));
  const out = new Uint8Array(96);
  let prev = sha256(concatBytes(b0, Uint8Array.of(1), dstPrime));
  out.set(prev, 0);
  for (let i = 2; i <= 3; i++) {
    const mixed = new Uint8Array(32);
    for (let j = 0; j < 32; j++) mixed[j] = b0[j]! ^ prev[j]!;
    prev = sha256(concatBytes(mixed, Uint8Array.of(i), dstPrime));
    out.set(prev, (i - 1) * 32);
  }
  return out;
}

/** The two field elements of `BLS.hashToField`: 48-byte big-endian halves of the 96 bytes, mod p. */
export function hashToField(domain: BytesLike, message: BytesLike): readonly [bigint, bigint] {
  const expanded = expandMsgTo96(domain, message);
  return [fpMod(bytesToBigInt(expanded.subarray(0, 48))), fpMod(bytesToBigInt(expanded.subarray(48, 96)))];
}

function curveRhs(x: bigint): bigint {
  return (((x * x) % P) * x + 3n) % P;
}

/**
 * Fouque-Tibouchi map of a field element to G1, step for step as `BLS.mapToPoint` (including
 * its choice of y: the root x^((p+1)/4), negated when the input is not a square).
 */
export function mapToPoint(e: bigint): G1 {
  if (e < 0n || e >= P) {
    throw new AvsctlError("INVALID_ARGUMENT", "mapToPoint: invalid field element", {
      details: { e: e.toString() },
    });
  }
  const decision = fpSqrt(e).isSquare;
  const pick = (root: bigint): bigint => (decision ? root : P - root);

  const a0 = (((e * e) % P) + 4n) % P;
  let a1 = (e * Z0) % P;
  const a2 = fpInv((a1 * a0) % P);
  a1 = (((a1 * a1) % P) * a2) % P;
  a1 = (e * a1) % P;

  const x1 = (Z1 + P - a1) % P;
  const s1 = fpSqrt(curveRhs(x1));
  if (s1.isSquare) return [x1, pick(s1.root)];

  const x2 = P - ((x1 + 1n) % P);
  const s2 = fpSqrt(curveRhs(x2));
  if (s2.isSquare) return [x2, pick(s2.root)];

  let x3 = (a0 * a0) % P;
  x3 = (x3 * x3) % P;
  x3 = (x3 * a2) % P;
  x3 = (x3 * a2) % P;
  x3 = (x3 + 1n) % P;
  const s3 = fpSqrt(curveRhs(x3));
  if (!s3.isSquare)
    throw new AvsctlError("INTERNAL", "mapToPoint: no square root for x3 (cannot happen on BN254)");
  return [x3, pick(s3.root)];
}

/**
 * `BLS.hashToPoint(domain, message)`: the G1 message point signatures are made over. For task
 * and vote signatures `message` is the 32-byte hash itself (`abi.encode(bytes32)`).
 */
export function hashToPoint(domain: BytesLike, message: BytesLike): G1 {
  const [u0, u1] = hashToField(domain, message);
  return g1AddAffine(mapToPoint(u0), mapToPoint(u1));
}

/**
 * One map's witness: y | k << 254 (k rejected x candidates), a root of y t, k roots of -g(x).
 * With r = t^((p+1)/4) and s = g^((p+1)/4) (p = 3 mod 4): r^2 = chi(t) t and y = chi(t) s, so
 * y t = s r^2 and sqrt(s) r = (s t)^((p+1)/4) is the root; s^2 = -g for a rejected g.
 * (p+1)/4 is even (p = 7 mod 8), so a nonzero s is a square and chi(s t) = chi(t): one power
 * gives the root and t's character. k + 2 powers in all.
 */
function mapWitness(
  t: bigint,
  a0: bigint,
  a1: bigint,
  a2: bigint,
): { words: bigint[]; x: bigint; y: bigint } {
  const rejected: bigint[] = [];
  let x = (Z1 + P - ((t * ((((a1 * a1) % P) * a2) % P)) % P)) % P;
  for (let k = 0; ; k++) {
    const s = fpSqrt(curveRhs(x));
    if (s.isSquare) {
      const st = fpSqrt((s.root * t) % P);
      const y = st.isSquare || s.root === 0n ? s.root : P - s.root;
      return { words: [y | (BigInt(k) << 254n), st.root, ...rejected], x, y };
    }
    if (k === 2)
      throw new AvsctlError("INTERNAL", "mapToPoint: no square root for x3 (cannot happen on BN254)");
    rejected.push(s.root);
    if (k === 0) {
      x = P - ((x + 1n) % P);
    } else {
      const a0sq = (a0 * a0) % P;
      x = (((((((a0sq * a0sq) % P) * a2) % P) * a2) % P) + 1n) % P;
    }
  }
}

/** Both maps' terms a0 = u^2 + 4 and a1 = u·Z0, and their denominators a0·a1. */
function mapTerms(u0: bigint, u1: bigint) {
  const a00 = (((u0 * u0) % P) + 4n) % P;
  const a01 = (u0 * Z0) % P;
  const a10 = (((u1 * u1) % P) + 4n) % P;
  const a11 = (u1 * Z0) % P;
  return { a00, a01, a10, a11, d0: (a01 * a00) % P, d1: (a11 * a10) % P };
}

/**
 * The witness avsctl's OBLS takes to hash `message` to the curve with mulmods instead of modexp
 * calls (BN254.hashToPoint32Witnessed; docs/protocol.md, "Contracts"), as 32-byte words: the
 * inverse of both maps' denominators, then each map's witness. The hints trailer carries it
 * without each map's y (withSubmitHints). null for a field element 0, which only the usual way
 * handles.
 */
export function hashToPointWitness(domain: BytesLike, message: BytesLike): bigint[] | null {
  return hashToPointWitnessed(domain, message)?.witness ?? null;
}

/** hashToPointWitness and the point it proves (hashToPoint's), from the same square roots. */
export function hashToPointWitnessed(
  domain: BytesLike,
  message: BytesLike,
): { witness: bigint[]; point: G1 } | null {
  const [u0, u1] = hashToField(domain, message);
  if (u0 === 0n || u1 === 0n) return null;
  const { a00, a01, a10, a11, d0, d1 } = mapTerms(u0, u1);
  const inv = fpInv((d0 * d1) % P);
  const m0 = mapWitness(u0, a00, a01, (d1 * inv) % P);
  const m1 = mapWitness(u1, a10, a11, (d0 * inv) % P);
  return { witness: [inv, ...m0.words, ...m1.words], point: g1AddAffine([m0.x, m0.y], [m1.x, m1.y]) };
}

/** One map checked from its witness: the map's point and the next word, or null when the witness fails. */
function mapFromWitness(
  t: bigint,
  a0: bigint,
  a1: bigint,
  a2: bigint,
  w: readonly bigint[],
  o: number,
): { x: bigint; y: bigint; next: number } | null {
  if (o + 2 > w.length) return null;
  const head = w[o]!;
  const k = Number(head >> 254n);
  const y = head & ((1n << 254n) - 1n);
  if (k > 2 || y >= P || o + 2 + k > w.length) return null;
  const root = w[o + 1]!;
  let x = (Z1 + P - ((t * ((((a1 * a1) % P) * a2) % P)) % P)) % P;
  for (let i = 0; i < k; i++) {
    // g(x) != 0 and -g(x) a square: g(x) is no square (-1 is none, p = 3 mod 4)
    const g = curveRhs(x);
    const r = w[o + 2 + i]!;
    if (g === 0n || (r * r) % P !== P - g) return null;
    if (i === 0) {
      x = P - ((x + 1n) % P);
    } else {
      const a0sq = (a0 * a0) % P;
      x = (((((((a0sq * a0sq) % P) * a2) % P) * a2) % P) + 1n) % P;
    }
  }
  if ((y * y) % P !== curveRhs(x) || (root * root) % P !== (y * t) % P) return null;
  return { x, y, next: o + 2 + k };
}

/**
 * hashToPoint(domain, message) from its witness (hashToPointWitness), checked as
 * BN254.hashToPoint32Witnessed checks it (which takes y from the root of y·t instead of checking
 * it): mulmods and one inversion instead of the square roots.
 * A witness that passes proves the point is hashToPoint's; null when it does not pass (the
 * caller then hashes the usual way). Words must be 256-bit unsigned integers.
 */
export function pointFromWitness(domain: BytesLike, message: BytesLike, w: readonly bigint[]): G1 | null {
  if (w.length < 5 || w.some((v) => typeof v !== "bigint" || v < 0n || v >> 256n !== 0n)) return null;
  const [u0, u1] = hashToField(domain, message);
  if (u0 === 0n || u1 === 0n) return null;
  const { a00, a01, a10, a11, d0, d1 } = mapTerms(u0, u1);
  const inv = w[0]!;
  if ((inv * ((d0 * d1) % P)) % P !== 1n) return null;
  const m0 = mapFromWitness(u0, a00, a01, (d1 * inv) % P, w, 1);
  if (!m0) return null;
  const m1 = mapFromWitness(u1, a10, a11, (d0 * inv) % P, w, m0.next);
  if (!m1 || m1.next !== w.length) return null;
  return g1AddAffine([m0.x, m0.y], [m1.x, m1.y]);
}
