import { AbiCoder, computeAddress, getAddress, keccak256, SigningKey } from "ethers";

/**
 * The task hash every Othentic node and the AttestationCenter agree on:
 * keccak256(abi.encode(string proofOfTask, bytes data, address performer, uint16 taskDefinitionId)).
 */
export function taskHash(
  proofOfTask: string,
  data: string,
  performer: string,
  taskDefinitionId: number,
): string {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["string", "bytes", "address", "uint16"],
    [proofOfTask, data, performer, taskDefinitionId],
  );
  return keccak256(encoded);
}

/**
 * A raw secp256k1 signature (r, s, v with v = 27 or 28) over the 32-byte hash, without the
 * EIP-191 prefix: the contract checks it with a plain ecrecover.
 */
export function signEcdsa(hash: string, privateKey: string): string {
  return new SigningKey(privateKey).sign(hash).serialized;
}

/** The checksummed address of a private key. */
export function addressOf(privateKey: string): string {
  return getAddress(computeAddress(privateKey));
}

/** Accepts a 32-byte private key with or without 0x; returns it 0x-prefixed and lowercase. */
export function normalizePrivateKey(value: string): string {
  const hex = value.trim().replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error("PRIVATE_KEY_PERFORMER must be 32 bytes of hex");
  return `0x${hex}`;
}
