/**
 * Checks that a raw 65-byte signature over a task hash is what `ecrecover` in the
 * AttestationCenter will attribute to the performer. The first signature of a performer is
 * recovered (~3 ms); its public key is then kept with precomputed multiples, and later
 * signatures are verified against it (~0.5 ms), including the recovery bit, so the answer is
 * exactly ecrecover's: R = u1*G + u2*Q must have x == r and the parity v - 27.
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { recoverTaskSigner } from "../crypto/ecdsa.js";
import { BoundedMap } from "./util.js";

type Point = InstanceType<typeof secp256k1.Point>;
const { Point: P } = secp256k1;
const Fn = P.Fn;
const keys = new BoundedMap<string, Point>(1024);

/** Whether `signature` (r || s || v, v 27/28, low s) over `hash` was made by `address`. */
export function isTaskSignedBy(hash: string, signature: string, address: string): boolean {
  const who = address.toLowerCase();
  const known = keys.get(who);
  if (known) return verifyWithKey(known, hash, signature);
  let signer: string;
  try {
    signer = recoverTaskSigner(hash, signature);
  } catch {
    return false;
  }
  if (signer.toLowerCase() !== who) return false;
  try {
    remember(who, hash, signature);
  } catch {
    // the slow path stays correct without the cache
  }
  return true;
}

function remember(who: string, hash: string, signature: string): void {
  const sig = secp256k1.Signature.fromBytes(
    Buffer.from(signature.slice(2, 130), "hex"),
    "compact",
  ).addRecoveryBit(Number.parseInt(signature.slice(130, 132), 16) - 27);
  const q = sig.recoverPublicKey(Buffer.from(hash.slice(2), "hex"));
  q.precompute(8);
  keys.set(who, q);
}

function verifyWithKey(q: Point, hash: string, signature: string): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) return false;
  if (r <= 0n || r >= Fn.ORDER || s <= 0n || s >= Fn.ORDER) return false;
  try {
    const w = Fn.inv(s);
    const u1 = Fn.mul(Fn.create(BigInt(hash)), w);
    const u2 = Fn.mul(r, w);
    const R = P.BASE.multiplyUnsafe(u1).add(q.multiplyUnsafe(u2));
    if (R.is0()) return false;
    const { x, y } = R.toAffine();
    return x === r && Number(y & 1n) === v - 27;
  } catch {
    return false;
  }
}
