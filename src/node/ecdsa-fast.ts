/**
 * Checks that a raw 65-byte signature over a task hash is what `ecrecover` in the
 * AttestationCenter will attribute to the performer: the key recovered from (r, s, v) must be
 * the performer's. A performer's first signature is tied to its address by hashing the key;
 * the key is then kept, and later signatures are compared with it byte for byte.
 */

import { keccak256 } from "../crypto/digest.js";
import { recoverPublicKey } from "./secp256k1.js";
import { BoundedMap } from "./util.js";

const keys = new BoundedMap<string, Buffer>(1024);
const HEX_SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const HEX_HASH = /^0x[0-9a-fA-F]{64}$/;

/** Whether `signature` (r || s || v, v 27/28) over `hash` was made by `address`. */
export function isTaskSignedBy(hash: string, signature: string, address: string): boolean {
  if (!HEX_SIGNATURE.test(signature) || !HEX_HASH.test(hash)) return false;
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) return false;
  const q = recoverPublicKey(
    Buffer.from(hash.slice(2), "hex"),
    Buffer.from(signature.slice(2, 130), "hex"),
    v === 27 ? 0 : 1,
  );
  if (!q) return false;
  const who = address.toLowerCase();
  const known = keys.get(who);
  if (known) return known.equals(q);
  const owner = `0x${Buffer.from(keccak256(q.subarray(1)))
    .subarray(12)
    .toString("hex")}`;
  if (owner !== who) return false;
  keys.set(who, Buffer.from(q));
  return true;
}
