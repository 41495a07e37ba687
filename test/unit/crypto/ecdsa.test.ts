import { hashMessage, recoverAddress, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { recoverTaskSigner, signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { taskHash } from "../../../src/crypto/task-hash.js";

describe("raw ECDSA task signature", () => {
  const wallet = Wallet.createRandom();
  const hash = taskHash({
    proofOfTask: "QmTest",
    data: "0x",
    performer: wallet.address,
    taskDefinitionId: 1,
  });

  it("recovers the signer's address from the raw hash", () => {
    const sig = signTaskEcdsa(wallet.privateKey, hash);
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
    expect(recoverTaskSigner(hash, sig)).toBe(wallet.address);
    expect(sig).toBe(wallet.signingKey.sign(hash).serialized);
  });

  it("is not an EIP-191 personal-message signature", async () => {
    const raw = signTaskEcdsa(wallet.privateKey, hash);
    const prefixed = await wallet.signMessage(Buffer.from(hash.slice(2), "hex"));
    expect(prefixed).not.toBe(raw);
    // Each verifies only under its own digest.
    expect(recoverAddress(hashMessage(Buffer.from(hash.slice(2), "hex")), prefixed)).toBe(wallet.address);
    expect(recoverTaskSigner(hash, prefixed)).not.toBe(wallet.address);
  });

  it("rejects a bad key, hash or signature with coded errors", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(code(() => signTaskEcdsa("0x1234", hash))).toBe("INVALID_KEY");
    expect(code(() => signTaskEcdsa(wallet.privateKey, "0x1234"))).toBe("INVALID_ARGUMENT");
    expect(code(() => recoverTaskSigner(hash, "0x1234"))).toBe("INVALID_ARGUMENT");
  });
});
