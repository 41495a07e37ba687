/**
 * Addresses as users type them: the shape check and EIP-55 checksums, without ethers (this
 * runs during flag validation, and in the workflow engine copy of generated projects).
 */

import { createRequire } from "node:module";
import { AvsctlError } from "../errors.ts";

// Loaded on the first checksum, not at import: flag parsing imports this module, and
// `avsctl --help` should not load a hash it never computes (Node >= 22.12 requires ESM).
let keccak: ((bytes: Uint8Array) => Uint8Array) | undefined;
function keccak_256(bytes: Uint8Array): Uint8Array {
  keccak ??= (
    createRequire(import.meta.url)("@noble/hashes/sha3.js") as typeof import("@noble/hashes/sha3.js")
  ).keccak_256;
  return keccak(bytes);
}

export function parseAddress(value: string, name: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new AvsctlError(
      "INVALID_ADDRESS",
      `${name}: "${value}" is not an address (0x followed by 40 hex digits)`,
      {
        details: { argument: name },
      },
    );
  }
  const hasUpper = /[A-F]/.test(value.slice(2));
  const hasLower = /[a-f]/.test(value.slice(2));
  if (hasUpper && hasLower && !checksumMatches(value)) {
    throw new AvsctlError(
      "INVALID_ADDRESS",
      `${name}: "${value}" has a wrong checksum (mixed case must be EIP-55)`,
      {
        hint: "check for a typo, or pass the address all in lowercase",
        details: { argument: name },
      },
    );
  }
  return value as `0x${string}`;
}

/** The address in its EIP-55 checksummed form, after the checks of `parseAddress`. */
export function checksumAddress(value: string, name: string): `0x${string}` {
  const lower = parseAddress(value, name).slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out as `0x${string}`;
}

/** EIP-55 check without loading ethers (this runs during flag validation). */
function checksumMatches(address: string): boolean {
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    const c = address[2 + i]!;
    if (/[a-f]/i.test(c) && (nibble >= 8 ? c !== c.toUpperCase() : c !== c.toLowerCase())) return false;
  }
  return true;
}
