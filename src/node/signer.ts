/**
 * What a node signs with: its operator address, its secp256k1 key (transactions) and EIP-191
 * messages (the transport's envelopes). ethers' Wallet has this shape too, but importing it
 * loads its providers, contracts and wordlists too: about 5 MB of each node's memory for
 * nothing it uses.
 */

import { SigningKey } from "ethers/crypto";
import { hashMessage } from "ethers/hash";
import { computeAddress } from "ethers/transaction";

export interface Signer {
  /** The checksummed address of the key. */
  readonly address: string;
  readonly signingKey: SigningKey;
  /** The EIP-191 personal-message signature (0x r||s||v), as Wallet.signMessageSync. */
  signMessageSync(message: string | Uint8Array): string;
}

/** The signer of a 0x-hex private key; throws ethers' error for a key that is not one. */
export function signerOf(privateKey: string): Signer {
  const signingKey = new SigningKey(privateKey);
  return {
    address: computeAddress(signingKey.publicKey),
    signingKey,
    signMessageSync: (message) => signingKey.sign(hashMessage(message)).serialized,
  };
}
