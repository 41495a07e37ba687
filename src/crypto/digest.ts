/**
 * keccak-256 and SHA-256 for the per-task hot paths (task and vote hashes, transaction hashes,
 * hash-to-point): OpenSSL through node:crypto is 4-10x faster than JavaScript on these sizes.
 * A Node built against an OpenSSL without keccak (older than 3.2) gets noble's, which gives
 * the same digests.
 */

import crypto from "node:crypto";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 as nobleKeccak256 } from "@noble/hashes/sha3.js";

type Digest = (data: Uint8Array) => Uint8Array;

function native(algorithm: string, emptyDigest: string): Digest | undefined {
  try {
    if (crypto.hash(algorithm, "", "hex") !== emptyDigest) return undefined;
    return (data) => crypto.hash(algorithm, data, "buffer");
  } catch {
    return undefined;
  }
}

export const keccak256: Digest =
  native("keccak-256", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470") ?? nobleKeccak256;

export const sha256: Digest =
  native("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") ?? nobleSha256;
