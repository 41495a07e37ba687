/**
 * Loading of mcl-wasm (BN_SNARK1 = alt_bn128, the EVM precompile curve) and the conversions
 * between our bigint tuples and mcl objects. mcl is ~10x faster than pure-JS pairings, but its
 * WebAssembly module needs an async init: `initBls()` once, then everything is synchronous.
 */

import type * as Mcl from "mcl-wasm";
import { AvsctlError } from "../errors.js";
import { FIELD_MODULUS, setFpBackend } from "./bn254-field.js";

export type McLib = typeof Mcl;
/** A G1 point [x, y] (signatures, message points); (0, 0) is the point at infinity. */
export type G1 = readonly [bigint, bigint];
/** A G2 point [x.c0, x.c1, y.c0, y.c1] (public keys), real parts first; all zero is infinity. */
export type G2 = readonly [bigint, bigint, bigint, bigint];

/** The EIP-197 generator of G1. */
export const G1_GENERATOR: G1 = [1n, 2n];

/** The EIP-197 generator of G2, laid out [x.c0, x.c1, y.c0, y.c1] (real part first). */
export const G2_GENERATOR: G2 = [
  0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6edn,
  0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2n,
  0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daan,
  0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975bn,
];

let lib: McLib | undefined;
let loading: Promise<void> | undefined;
let negG2Precomputed: Mcl.PrecomputedG2 | undefined;

/**
 * Load and initialise mcl-wasm for BN254. Idempotent and safe to call concurrently; every BLS
 * function that touches curve points (keys, signing, verification, point arithmetic) needs it
 * to have resolved. The mcl module is process-global: nothing else may init it with another curve.
 */
export function initBls(): Promise<void> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw new AvsctlError("TOOLCHAIN_MISSING", "could not load the mcl-wasm BLS library", { cause: error });
  });
  return loading;
}

async function load(): Promise<void> {
  const imported = (await import("mcl-wasm")) as McLib & { default?: McLib };
  const m = imported.default ?? imported;
  await m.init(m.BN_SNARK1);
  const g2 = g2ToMclWith(m, G2_GENERATOR);
  // A different generator would silently make every key incompatible with the EVM precompiles.
  if (!g2.isValid() || !g2.isValidOrder()) throw new Error("mcl rejected the EIP-197 G2 generator");
  negG2Precomputed = new m.PrecomputedG2(m.neg(g2));
  lib = m;
  const fp = (x: bigint): Mcl.Fp => {
    const f = new m.Fp();
    f.setStr(x.toString(16), 16);
    return f;
  };
  setFpBackend({
    pow: (base, exp) => BigInt(`0x${m.pow(fp(base), exp).getStr(16)}`),
    inv: (a) => BigInt(`0x${m.inv(fp(a)).getStr(16)}`),
  });
}

/** Whether initBls() has completed. */
export function isBlsReady(): boolean {
  return lib !== undefined;
}

/** The initialised mcl module; throws INTERNAL if initBls() has not resolved yet. */
export function mcl(): McLib {
  if (!lib) {
    throw new AvsctlError("INTERNAL", "BLS used before initBls() resolved", {
      hint: "await initBls() once before using BLS keys, signatures or points",
    });
  }
  return lib;
}

/** Precomputed Miller-loop lines of -G2, the fixed half of every verification. */
export function negG2Lines(): Mcl.PrecomputedG2 {
  mcl();
  return negG2Precomputed!;
}

function invalidPoint(what: string, cause?: unknown): AvsctlError {
  return new AvsctlError("INVALID_ARGUMENT", `${what}: not a valid BN254 point`, {
    details: { argument: what },
    cause,
  });
}

function checkCoords(coords: readonly bigint[], what: string): void {
  for (const c of coords) {
    if (typeof c !== "bigint" || c < 0n || c >= FIELD_MODULUS) throw invalidPoint(what);
  }
}

/** An mcl G1 of a bigint point; (0, 0) is infinity. Throws INVALID_ARGUMENT off the curve. */
export function g1ToMcl(p: G1, what = "G1 point"): Mcl.G1 {
  const m = mcl();
  checkCoords(p, what);
  const out = new m.G1();
  if (p[0] === 0n && p[1] === 0n) return out;
  try {
    out.setStr(`1 ${p[0].toString(16)} ${p[1].toString(16)}`, 16);
  } catch (error) {
    throw invalidPoint(what, error);
  }
  if (!out.isValid()) throw invalidPoint(what);
  return out;
}

/** The affine bigint form of an mcl G1 ((0, 0) for infinity). */
export function g1FromMcl(p: Mcl.G1): G1 {
  if (p.isZero()) return [0n, 0n];
  const parts = mcl().normalize(p).getStr(16).split(" ");
  return [BigInt(`0x${parts[1]}`), BigInt(`0x${parts[2]}`)];
}

function g2ToMclWith(m: McLib, p: G2): Mcl.G2 {
  const out = new m.G2();
  if (p.every((c) => c === 0n)) return out;
  // mcl writes an Fp2 as "a b" for a + b*i, the same real-first order as our uint256[4].
  out.setStr(`1 ${p.map((c) => c.toString(16)).join(" ")}`, 16);
  return out;
}

// Public keys repeat (the same operators sign every task) and checking the G2 subgroup costs
// about a scalar multiplication, so validated conversions are kept.
const G2_CACHE_LIMIT = 4096;
const g2Cache = new Map<string, Mcl.G2>();

/**
 * An mcl G2 of a bigint [x.c0, x.c1, y.c0, y.c1] point, checked to be on the twist and in the
 * order-r subgroup ([0,0,0,0] is infinity). Throws INVALID_ARGUMENT otherwise.
 */
export function g2ToMcl(p: G2, what = "G2 point"): Mcl.G2 {
  const m = mcl();
  checkCoords(p, what);
  const key = p.join(",");
  const cached = g2Cache.get(key);
  if (cached) return cached;
  let out: Mcl.G2;
  try {
    out = g2ToMclWith(m, p);
  } catch (error) {
    throw invalidPoint(what, error);
  }
  if (!out.isZero() && (!out.isValid() || !out.isValidOrder())) throw invalidPoint(what);
  if (g2Cache.size >= G2_CACHE_LIMIT) g2Cache.delete(g2Cache.keys().next().value!);
  g2Cache.set(key, out);
  return out;
}

// Precomputed Miller-loop lines of a key save about a quarter of each single verification; they
// live in wasm memory (~13 KB each), so fewer are kept and evicted ones are freed explicitly.
const LINES_CACHE_LIMIT = 256;
const linesCache = new Map<string, Mcl.PrecomputedG2>();

/** Precomputed lines of a validated, non-zero G2 point (see g2ToMcl), cached per point. */
export function g2Lines(p: G2, what = "G2 point"): Mcl.PrecomputedG2 {
  const key = p.join(",");
  const cached = linesCache.get(key);
  if (cached) return cached;
  const point = g2ToMcl(p, what);
  if (point.isZero()) throw invalidPoint(what);
  const lines = new (mcl().PrecomputedG2)(point);
  if (linesCache.size >= LINES_CACHE_LIMIT) {
    const oldest = linesCache.keys().next().value!;
    linesCache.get(oldest)!.destroy();
    linesCache.delete(oldest);
  }
  linesCache.set(key, lines);
  return lines;
}

/** The affine bigint form of an mcl G2 ([0,0,0,0] for infinity). */
export function g2FromMcl(p: Mcl.G2): G2 {
  if (p.isZero()) return [0n, 0n, 0n, 0n];
  const parts = mcl().normalize(p).getStr(16).split(" ");
  return [BigInt(`0x${parts[1]}`), BigInt(`0x${parts[2]}`), BigInt(`0x${parts[3]}`), BigInt(`0x${parts[4]}`)];
}

/** An mcl Fr of a bigint scalar (reduced mod r by the caller). */
export function frToMcl(k: bigint): Mcl.Fr {
  const fr = new (mcl().Fr)();
  fr.setStr(k.toString(16), 16);
  return fr;
}
