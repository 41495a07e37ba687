/**
 * secp256k1 for what the aggregator does once per task (signing its transaction, checking an
 * ECDSA performer's signature), through libsecp256k1 compiled to WebAssembly (tiny-secp256k1):
 * 3-4x faster than noble in JavaScript. Its nonces are RFC 6979's with no extra entropy, so
 * its signatures are byte for byte those of ethers' SigningKey. Node processes only: the CLI
 * never loads the WebAssembly module.
 */

import * as ecc from "tiny-secp256k1";

export interface RecoverableSignature {
  r: bigint;
  s: bigint;
  /** the parity of R's y (the recovery id, 0 or 1) */
  yParity: number;
}

/** A low-s signature of a 32-byte digest. */
export function signDigest(privateKey: Uint8Array, digest: Uint8Array): RecoverableSignature {
  const { signature, recoveryId } = ecc.signRecoverable(digest, privateKey);
  const hex = Buffer.from(signature).toString("hex");
  return { r: BigInt(`0x${hex.slice(0, 64)}`), s: BigInt(`0x${hex.slice(64)}`), yParity: recoveryId };
}

/**
 * The 65-byte uncompressed key that ecrecover finds for (r || s, recovery id) over `digest`:
 * r and s in [1, n), R's x exactly r, R's y of the given parity. null where ecrecover finds none.
 */
export function recoverPublicKey(digest: Uint8Array, rs: Uint8Array, recoveryId: 0 | 1): Uint8Array | null {
  try {
    return ecc.recover(digest, rs, recoveryId, false);
  } catch {
    // r or s out of range, or r no x-coordinate on the curve
    return null;
  }
}
