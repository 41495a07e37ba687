import { randomBytes } from "node:crypto";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { keccak256, sha256 } from "../../../src/crypto/digest.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("digests", () => {
  it("are keccak-256 and SHA-256, whichever implementation this Node has", () => {
    expect(hex(keccak256(new TextEncoder().encode("abc")))).toBe(
      "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
    );
    expect(hex(sha256(new TextEncoder().encode("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    for (const n of [0, 1, 32, 135, 136, 137, 2200]) {
      const data = randomBytes(n);
      expect(hex(keccak256(data))).toBe(hex(keccak_256(data)));
      expect(hex(sha256(data))).toBe(hex(nobleSha256(data)));
    }
  });
});
