/**
 * The aggregator's two secp256k1 backends (the prebuilt libsecp256k1 addon and the same library
 * in WebAssembly) must answer alike: the same signature bytes for a key and digest, the same key
 * recovered or the same refusal, for ordinary and malformed signatures. Either may run, by
 * platform, so a difference would make a task's fate depend on the machine.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  loadNativeBackend,
  recoverPublicKey,
  type Secp256k1Backend,
  secp256k1Backend,
  signDigest,
  wasmBackend,
} from "../../../src/node/secp256k1.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (v: bigint) => Buffer.from(v.toString(16).padStart(64, "0"), "hex");
const native = loadNativeBackend();

function outcome(b: Secp256k1Backend, digest: Uint8Array, rs: Uint8Array, id: 0 | 1): string {
  try {
    return Buffer.from(b.recover(digest, rs, id)).toString("hex");
  } catch {
    return "refused";
  }
}

describe("secp256k1 backends", () => {
  it("loads the prebuilt addon on linux-x64 (the platform CI and the devnet image run)", () => {
    if (process.platform === "linux" && process.arch === "x64") {
      expect(native?.name).toBe("native");
      expect(secp256k1Backend().name).toBe("native");
    } else {
      expect(secp256k1Backend().name).toBe(native ? "native" : "wasm");
    }
  });

  it("signs and recovers bit for bit alike", () => {
    const backends = [wasmBackend, ...(native ? [native] : [])];
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32);
      const digest = randomBytes(32);
      const sigs = backends.map((b) => b.sign(digest, key));
      for (const s of sigs) {
        expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
        expect(s.recoveryId).toBe(sigs[0]!.recoveryId);
        // low s, as ethers signs
        expect(BigInt(`0x${Buffer.from(s.signature.subarray(32)).toString("hex")}`) <= N / 2n).toBe(true);
      }
      const id = sigs[0]!.recoveryId as 0 | 1;
      const keys = backends.map((b) => outcome(b, digest, sigs[0]!.signature, id));
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).not.toBe("refused");
      // the other parity is another key (or none), the same on both
      const other = backends.map((b) => outcome(b, digest, sigs[0]!.signature, (1 - id) as 0 | 1));
      expect(new Set(other).size).toBe(1);
      expect(other[0]).not.toBe(keys[0]);
      // the high-s twin with the other parity is the same signer, as for ecrecover
      const s = BigInt(`0x${Buffer.from(sigs[0]!.signature.subarray(32)).toString("hex")}`);
      const twin = Buffer.concat([Buffer.from(sigs[0]!.signature.subarray(0, 32)), word(N - s)]);
      for (const b of backends) expect(outcome(b, digest, twin, (1 - id) as 0 | 1)).toBe(keys[0]);
    }
  });

  it("refuses alike what ecrecover refuses", () => {
    const digest = randomBytes(32);
    const good = signDigest(randomBytes(32), digest);
    const cases = [
      Buffer.concat([word(0n), word(good.s)]),
      Buffer.concat([word(good.r), word(0n)]),
      Buffer.concat([word(N), word(good.s)]),
      Buffer.concat([word(good.r), word(N)]),
      Buffer.concat([word(good.r + N < 2n ** 256n ? good.r + N : N + 1n), word(good.s)]),
      // x = 5 is on no point of y^2 = x^3 + 7
      Buffer.concat([word(5n), word(good.s)]),
      Buffer.concat([word(2n ** 256n - 1n), word(2n ** 256n - 1n)]),
    ];
    for (const rs of cases) {
      for (const id of [0, 1] as const) {
        expect(outcome(wasmBackend, digest, rs, id)).toBe("refused");
        if (native) expect(outcome(native, digest, rs, id)).toBe("refused");
        expect(recoverPublicKey(digest, rs, id)).toBeNull();
      }
    }
  });
});
