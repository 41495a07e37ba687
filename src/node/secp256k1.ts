/**
 * secp256k1 for what the aggregator does once per task (signing its transaction, checking an
 * ECDSA performer's signature). Both backends are libsecp256k1: the optional `secp256k1`
 * package's prebuilt Node addon (recovery ~60 µs, signing ~40 µs on a 2-core runner) when it
 * loads, else the same library compiled to WebAssembly (tiny-secp256k1: ~290 µs and ~110 µs).
 * One library, so the two give the same answers bit for bit (test/unit/node/secp256k1.test.ts):
 * RFC 6979 nonces with no extra entropy (the signatures of ethers' SigningKey), low s, and
 * ecrecover's rules on recovery. Node processes only: the CLI never loads either.
 */

import { createRequire } from "node:module";
import type * as Tiny from "tiny-secp256k1";

const require = createRequire(import.meta.url);
// Loaded only where the addon does not load: its WebAssembly costs a process about 15 MB and 25 ms.
let tiny: typeof Tiny | undefined;
const ecc = (): typeof Tiny => {
  tiny ??= require("tiny-secp256k1") as typeof Tiny;
  return tiny;
};

export interface RecoverableSignature {
  r: bigint;
  s: bigint;
  /** the parity of R's y (the recovery id, 0 or 1) */
  yParity: number;
}

/** The two operations, as each backend offers them; both throw on what libsecp256k1 refuses. */
export interface Secp256k1Backend {
  readonly name: "native" | "wasm";
  /** 64-byte r || s and the recovery id. */
  sign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recoveryId: number };
  /** The 65-byte uncompressed key. */
  recover(digest: Uint8Array, rs: Uint8Array, recoveryId: 0 | 1): Uint8Array;
}

export const wasmBackend: Secp256k1Backend = {
  name: "wasm",
  sign: (digest, privateKey) => ecc().signRecoverable(digest, privateKey),
  recover: (digest, rs, recoveryId) => {
    const q = ecc().recover(digest, rs, recoveryId, false);
    if (!q) throw new Error("no key");
    return q;
  },
};

interface NativeAddon {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

/**
 * The prebuilt addon, or undefined where none fits this platform. `secp256k1/bindings.js` only:
 * the package's main entry falls back to elliptic in JavaScript, slower than the WebAssembly.
 */
export function loadNativeBackend(): Secp256k1Backend | undefined {
  let addon: NativeAddon;
  try {
    addon = require("secp256k1/bindings.js") as NativeAddon;
  } catch {
    return undefined;
  }
  return {
    name: "native",
    sign: (digest, privateKey) => {
      const { signature, recid } = addon.ecdsaSign(digest, privateKey);
      return { signature, recoveryId: recid };
    },
    recover: (digest, rs, recoveryId) => addon.ecdsaRecover(rs, recoveryId, digest, false),
  };
}

let chosen: Secp256k1Backend | undefined;

/** The backend this process uses: the addon when it loads. */
export function secp256k1Backend(): Secp256k1Backend {
  chosen ??= loadNativeBackend() ?? wasmBackend;
  return chosen;
}

/** A low-s signature of a 32-byte digest. */
export function signDigest(privateKey: Uint8Array, digest: Uint8Array): RecoverableSignature {
  const { signature, recoveryId } = secp256k1Backend().sign(digest, privateKey);
  const hex = Buffer.from(signature).toString("hex");
  return { r: BigInt(`0x${hex.slice(0, 64)}`), s: BigInt(`0x${hex.slice(64)}`), yParity: recoveryId };
}

/**
 * The 65-byte uncompressed key that ecrecover finds for (r || s, recovery id) over `digest`:
 * r and s in [1, n), R's x exactly r, R's y of the given parity. null where ecrecover finds none.
 */
export function recoverPublicKey(digest: Uint8Array, rs: Uint8Array, recoveryId: 0 | 1): Uint8Array | null {
  try {
    return secp256k1Backend().recover(digest, rs, recoveryId);
  } catch {
    // r or s out of range, or r no x-coordinate on the curve
    return null;
  }
}
