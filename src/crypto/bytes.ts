/** Small byte/hex helpers shared by the crypto modules (no ethers: BLS code stays light). */

import { AvsctlError } from "../errors.js";

/** A 0x-prefixed hex string. */
export type Hex = `0x${string}`;

/** Bytes given either as a Uint8Array or as 0x-prefixed hex. */
export type BytesLike = Uint8Array | string;

const HEX_RE = /^0x([0-9a-fA-F]{2})*$/;

/** Bytes of a 0x-hex string (even length) or a copy-free pass-through of a Uint8Array. */
export function toBytes(value: BytesLike, what = "bytes"): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== "string" || !HEX_RE.test(value)) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `${what}: expected 0x-prefixed hex with an even number of digits`,
      {
        details: { argument: what },
      },
    );
  }
  return Uint8Array.from(Buffer.from(value.slice(2), "hex"));
}

/** Lowercase 0x-hex of bytes. */
export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

/** A non-negative bigint as a 32-byte big-endian 0x-hex word. */
export function toWordHex(value: bigint): Hex {
  if (value < 0n || value >= 1n << 256n) {
    throw new AvsctlError("INVALID_ARGUMENT", "value does not fit in 32 bytes", {
      details: { value: value.toString() },
    });
  }
  return `0x${value.toString(16).padStart(64, "0")}`;
}

/** 32-byte words back to back, as hex without 0x (what follows an ABI encoding). */
export function wordsHex(values: readonly bigint[]): string {
  return values.map((v) => toWordHex(v).slice(2)).join("");
}

/** A non-negative bigint as 32 big-endian bytes. */
export function toWordBytes(value: bigint): Uint8Array {
  return toBytes(toWordHex(value));
}

/** Big-endian unsigned integer of bytes. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(bytesToHex(bytes));
}

/** Parse a 0x-hex (or decimal) string into a bigint, failing with INVALID_ARGUMENT. */
export function parseBigInt(value: string, what: string): bigint {
  if (typeof value !== "string" || !/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(value)) {
    throw new AvsctlError("INVALID_ARGUMENT", `${what}: expected a 0x-hex or decimal integer`, {
      details: { argument: what },
    });
  }
  return BigInt(value);
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Text or 0x-hex from a user, as the 0x-hex bytes sendTask carries. */
export function toDataHex(value: string): string {
  if (/^0x([0-9a-fA-F]{2})*$/.test(value)) return value.toLowerCase();
  return `0x${Buffer.from(value, "utf8").toString("hex")}`;
}
