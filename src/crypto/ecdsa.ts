/**
 * The default (ECDSA) performer signature: a raw secp256k1 signature over the 32-byte task hash,
 * with no EIP-191 prefix, because the AttestationCenter checks it with a bare `ecrecover`.
 */

import { SigningKey } from "ethers/crypto";
import { computeAddress } from "ethers/transaction";
import { getBytes } from "ethers/utils";
import { AvsctlError } from "../errors.js";
import type { Hex } from "./bytes.js";

function hashBytes(hash: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = getBytes(hash);
  } catch (error) {
    throw new AvsctlError("INVALID_ARGUMENT", "hash: expected 0x-hex", {
      details: { argument: "hash" },
      cause: error,
    });
  }
  if (bytes.length !== 32) {
    throw new AvsctlError("INVALID_ARGUMENT", "hash: expected 32 bytes", { details: { argument: "hash" } });
  }
  return bytes;
}

/** 65-byte r||s||v signature of the raw 32-byte hash (v = 27/28). */
export function signTaskEcdsa(privateKey: string, hash: string): Hex {
  let key: SigningKey;
  try {
    key = new SigningKey(privateKey);
  } catch (error) {
    throw new AvsctlError("INVALID_KEY", "not a valid secp256k1 private key", { cause: error });
  }
  return key.sign(hashBytes(hash)).serialized as Hex;
}

/** The checksummed address whose key made `signature` over the raw 32-byte hash. */
export function recoverTaskSigner(hash: string, signature: string): string {
  const digest = hashBytes(hash);
  try {
    return computeAddress(SigningKey.recoverPublicKey(digest, signature));
  } catch (error) {
    throw new AvsctlError("INVALID_ARGUMENT", "signature: not a valid secp256k1 signature", {
      details: { argument: "signature" },
      cause: error,
    });
  }
}
