/**
 * Transactions signed for the tx pipeline. EIP-1559 ones by hand: ethers' Transaction object
 * costs as much as the signature, and the aggregator signs one per task.
 */

import type { SigningKey } from "ethers/crypto";
import { Transaction } from "ethers/transaction";
import { keccak256 } from "../crypto/digest.js";
import { signDigest } from "./secp256k1.js";

export interface SignedTx {
  nonce: number;
  rawTx: string;
  txHash: string;
}

function intBytes(value: bigint): Buffer {
  if (value === 0n) return Buffer.alloc(0);
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
}

function rlpLength(len: number, offset: number): Buffer {
  if (len <= 55) return Buffer.from([offset + len]);
  const l = intBytes(BigInt(len));
  return Buffer.concat([Buffer.from([offset + 55 + l.length]), l]);
}

function rlpBytes(b: Buffer): Buffer {
  if (b.length === 1 && b[0]! < 0x80) return b;
  return Buffer.concat([rlpLength(b.length, 0x80), b]);
}

function rlpList(items: Buffer[]): Buffer {
  const payload = Buffer.concat(items);
  return Buffer.concat([rlpLength(payload.length, 0xc0), payload]);
}

const keyBytes = new WeakMap<SigningKey, Buffer>();

function privateKeyBytes(key: SigningKey): Buffer {
  let bytes = keyBytes.get(key);
  if (!bytes) {
    bytes = Buffer.from(key.privateKey.slice(2), "hex");
    keyBytes.set(key, bytes);
  }
  return bytes;
}

/** A signed type-2 transaction (no value, empty access list), as eth_sendRawTransaction takes it. */
export function signEip1559(
  key: SigningKey,
  tx: {
    chainId: bigint;
    nonce: bigint;
    maxPriorityFeePerGas: bigint;
    maxFeePerGas: bigint;
    gasLimit: bigint;
    to: string;
    data: string;
  },
): SignedTx {
  const fields = [
    rlpBytes(intBytes(tx.chainId)),
    rlpBytes(intBytes(tx.nonce)),
    rlpBytes(intBytes(tx.maxPriorityFeePerGas)),
    rlpBytes(intBytes(tx.maxFeePerGas)),
    rlpBytes(intBytes(tx.gasLimit)),
    rlpBytes(Buffer.from(tx.to.slice(2), "hex")),
    rlpBytes(Buffer.alloc(0)),
    rlpBytes(Buffer.from(tx.data.slice(2), "hex")),
    rlpList([]),
  ];
  const unsigned = Buffer.concat([Buffer.from([2]), rlpList(fields)]);
  const sig = signDigest(privateKeyBytes(key), keccak256(unsigned));
  const signed = Buffer.concat([
    Buffer.from([2]),
    rlpList([
      ...fields,
      rlpBytes(intBytes(BigInt(sig.yParity))),
      rlpBytes(intBytes(sig.r)),
      rlpBytes(intBytes(sig.s)),
    ]),
  ]);
  return {
    nonce: Number(tx.nonce),
    rawTx: `0x${signed.toString("hex")}`,
    txHash: `0x${Buffer.from(keccak256(signed)).toString("hex")}`,
  };
}

/** A signed legacy (type 0) transaction, for a chain without EIP-1559 fees (rare: ethers' path). */
export function signLegacy(
  key: SigningKey,
  tx: { chainId: bigint; nonce: number; gasPrice: bigint; gasLimit: bigint; to: string; data: string },
): SignedTx {
  const t = Transaction.from({ type: 0, value: 0n, ...tx });
  t.signature = key.sign(t.unsignedHash);
  return { nonce: tx.nonce, rawTx: t.serialized, txHash: t.hash! };
}
