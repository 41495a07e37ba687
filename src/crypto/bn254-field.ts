/**
 * Base-field and scalar-field arithmetic of BN254 (alt_bn128, the curve of the EVM precompiles
 * 0x06-0x08) on plain bigints. Only what hashToPoint and key handling need: it runs without
 * the mcl-wasm module so hashing a message never waits for an async init.
 */

/** Base field modulus p of BN254. */
export const FIELD_MODULUS = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47n;

/** Order r of the BN254 groups (the scalar field; secret keys live in [1, r)). */
export const GROUP_ORDER = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001n;

const P = FIELD_MODULUS;
// p = 3 mod 4, so x^((p+1)/4) is a square root whenever one exists.
const SQRT_EXPONENT = (P + 1n) / 4n;

/** x mod p in [0, p). */
export function fpMod(x: bigint): bigint {
  const r = x % P;
  return r < 0n ? r + P : r;
}

type PowFn = (base: bigint, exp: bigint) => bigint;
type InvFn = (a: bigint) => bigint;
let powBackend: PowFn | undefined;
let invBackend: InvFn | undefined;

/**
 * Route fpPow and fpInv through a faster implementation (mcl-wasm, ~6x and ~4x faster than
 * bigints). Set by initBls(); `undefined` restores the bigint paths. Both compute the same
 * exact values; the inversion backend is only given nonzero values below p.
 */
export function setFpBackend(fns: { pow: PowFn; inv: InvFn } | undefined): void {
  powBackend = fns?.pow;
  invBackend = fns?.inv;
}

/** base^exp mod p (exp >= 0). */
export function fpPow(base: bigint, exp: bigint): bigint {
  if (powBackend) return powBackend(fpMod(base), exp);
  return fpPowBigint(base, exp);
}

/** base^exp mod p by square-and-multiply on bigints. */
export function fpPowBigint(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = fpMod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

/**
 * Modular inverse mod p. Returns 0 for 0, like the modexp-based `ModexpInverse` of BLS.sol
 * (a^(p-2)), so edge cases map exactly as on-chain.
 */
export function fpInv(a: bigint): bigint {
  let x = fpMod(a);
  if (x === 0n) return 0n;
  if (invBackend) return invBackend(x);
  // Extended Euclid: an order of magnitude faster than a^(p-2) on bigints.
  let m = P;
  let u = 1n;
  let v = 0n;
  while (x !== 0n) {
    const q = m / x;
    [m, x] = [x, m - q * x];
    [v, u] = [u, v - q * u];
  }
  return fpMod(v);
}

/**
 * The square root exactly as BLS.sol computes it: `r = x^((p+1)/4)` and whether `r*r == x`.
 * The particular root returned matters: mapToPoint picks the sign of y from it.
 */
export function fpSqrt(x: bigint): { root: bigint; isSquare: boolean } {
  const root = fpPow(x, SQRT_EXPONENT);
  return { root, isSquare: (root * root) % P === fpMod(x) };
}

/** Whether (x, y) with coordinates in [0, p) satisfies y^2 = x^3 + 3 (or is the point at infinity (0, 0)). */
export function isOnCurveG1(x: bigint, y: bigint): boolean {
  if (x < 0n || y < 0n || x >= P || y >= P) return false;
  if (x === 0n && y === 0n) return true;
  return (y * y) % P === (((x * x) % P) * x + 3n) % P;
}

/** Affine G1 addition on bigints, with (0, 0) as the point at infinity (the EVM convention). */
export function g1AddAffine(
  a: readonly [bigint, bigint],
  b: readonly [bigint, bigint],
): readonly [bigint, bigint] {
  const [x1, y1] = a;
  const [x2, y2] = b;
  if (x1 === 0n && y1 === 0n) return [x2, y2];
  if (x2 === 0n && y2 === 0n) return [x1, y1];
  let lambda: bigint;
  if (x1 === x2) {
    if ((y1 + y2) % P === 0n) return [0n, 0n];
    lambda = fpMod(3n * x1 * x1 * fpInv(2n * y1));
  } else {
    lambda = fpMod((y2 - y1) * fpInv(x2 - x1));
  }
  const x3 = fpMod(lambda * lambda - x1 - x2);
  const y3 = fpMod(lambda * (x1 - x3) - y1);
  return [x3, y3];
}

// b' = 3 / (9 + i), the constant of the sextic twist E': y^2 = x^3 + b' that holds G2.
const TWIST_B0 = 0x2b149d40ceb8aaae81be18991be06ac3b5b4c5e559dbefa33267e6dc24a138e5n;
const TWIST_B1 = 0x009713b03af0fed4cd2cafadeed8fdf4a74fa084e52d1852e4a2bd0685c315d2n;

/**
 * Whether [x.c0, x.c1, y.c0, y.c1] lies on the G2 twist (or is all zero, infinity). Says nothing
 * about the subgroup: that check needs a scalar multiplication (see g2ToMcl).
 */
export function isOnTwistG2(p: readonly [bigint, bigint, bigint, bigint]): boolean {
  if (p.some((c) => c < 0n || c >= P)) return false;
  const [x0, x1, y0, y1] = p;
  if (x0 === 0n && x1 === 0n && y0 === 0n && y1 === 0n) return true;
  // (a + bi)^2 = a^2 - b^2 + 2ab i, with i^2 = -1.
  const xx0 = fpMod(x0 * x0 - x1 * x1);
  const xx1 = (2n * x0 * x1) % P;
  const xxx0 = fpMod(xx0 * x0 - xx1 * x1);
  const xxx1 = (xx0 * x1 + xx1 * x0) % P;
  const yy0 = fpMod(y0 * y0 - y1 * y1);
  const yy1 = (2n * y0 * y1) % P;
  return yy0 === (xxx0 + TWIST_B0) % P && yy1 === (xxx1 + TWIST_B1) % P;
}
